"""Open311 GeoReport v2 (`/open311/v2`): every resource as `.json` and `.xml`; refusals in the
spec's error list (`Open311Route`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.intake.api.deps import (
    CreateRateLimit,
    IdempotencyDep,
    LangDep,
    Open311Dep,
    QueriesDep,
)
from services.intake.domain.errors import InvalidInput, NotFound, NotSupported
from services.intake.domain.report import Report

from . import forms
from . import serializers as s
from .errors import Open311Route

PREFIX = "/open311/v2"
CHANGESET = "2026-01-01T00:00:00+00:00"

router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)


async def authorized_form(request: Request, open311: Open311Dep) -> FormData:
    """The form of a POST, from a client with a valid `api_key`."""
    try:
        form = await request.form(max_files=0, max_fields=200, max_part_size=64 * 1024)
    except StarletteHTTPException as exc:  # the form parser's refusal
        raise InvalidInput(str(exc.detail)) from exc
    open311.authorize(str(form.get("api_key") or ""))
    return form


AuthorizedForm = Annotated[FormData, Depends(authorized_form)]


@router.get("/discovery.{fmt}", summary="Service discovery")
async def discovery(fmt: str, request: Request) -> Response:
    endpoint = {
        "specification": s.SPEC_URL,
        "url": str(request.base_url).rstrip("/") + PREFIX,
        "changeset": CHANGESET,
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    return s.render(
        fmt,
        "discovery",
        {
            "changeset": CHANGESET,
            "contact": "IOC field reports",
            "key_service": "api_key issued by the IOC (setting OPEN311_API_KEYS)",
            "endpoints": [endpoint],
        },
    )


@router.get("/services.{fmt}", summary="Service list (categories)")
async def services(fmt: str, queries: QueriesDep, lang: LangDep) -> Response:
    catalog = await queries.catalog()
    return s.render(fmt, "services", [s.service(c, lang) for c in catalog.categories()])


@router.get("/services/{service_code}.{fmt}", summary="Service definition (attributes)")
async def service_definition(
    service_code: str, fmt: str, queries: QueriesDep, lang: LangDep
) -> Response:
    category = (await queries.catalog()).category(service_code)
    if category is None:
        raise NotFound(f"service_code {service_code} not found")
    return s.render(fmt, "service_definition", s.definition(category, lang))


@router.post("/requests.{fmt}", summary="Create a service request (form-encoded, api_key)")
async def create_request(
    fmt: str,
    form: AuthorizedForm,
    scope: IdempotencyDep,
    _: CreateRateLimit,
    open311: Open311Dep,
) -> Response:
    draft = forms.draft(form)
    created = await open311.create(draft, idempotency_key=scope.key, client=scope.client)
    item = {
        "service_request_id": created.report.id,
        "service_notice": "",
        "account_id": str(form.get("account_id") or ""),
    }
    response = s.render(fmt, "service_requests", [item], 200 if created.replayed else 201)
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get("/requests.{fmt}", summary="Service requests, with the spec's filters")
async def list_requests(fmt: str, request: Request, open311: Open311Dep, lang: LangDep) -> Response:
    q = request.query_params
    page = forms.integer(q.get("page"), "page", 1, 1, 10**6)
    size = forms.integer(q.get("page_size"), "page_size", 50, 1, open311.max_page_size)
    found = await open311.requests(forms.request_filter(q), page, size)
    return s.render(fmt, "service_requests", [_request(r, request, lang) for r in found])


@router.get("/requests/{request_id}.{fmt}", summary="One service request")
async def get_request(
    request_id: str, fmt: str, request: Request, queries: QueriesDep, lang: LangDep
) -> Response:
    report = await queries.get(request_id)
    return s.render(fmt, "service_requests", [_request(report, request, lang)])


@router.get("/tokens/{token}.{fmt}", summary="Request id from a token")
async def token(token: str, fmt: str, queries: QueriesDep) -> Response:
    """Requests are created in real time, so the token is the request id itself."""
    report = await queries.get(token)
    return s.render(
        fmt, "service_requests", [{"service_request_id": report.id, "token": report.id}]
    )


@router.get(
    "/servicerequestupdates.{fmt}",
    summary="Status updates of requests (mySociety extension, as polled by FixMyStreet)",
)
async def list_updates(fmt: str, request: Request, open311: Open311Dep, lang: LangDep) -> Response:
    """Public data: no api_key needed (the extension's documentation says so); FixMyStreet
    sends its key anyway, and like the other GETs it is ignored. `jurisdiction_id` likewise."""
    q = request.query_params
    start, end = forms.window(q.get("start_date"), q.get("end_date"))
    found = await open311.updates(start, end, lang)
    return s.render(fmt, "service_request_updates", [s.request_update(u) for u in found])


@router.post("/servicerequestupdates.{fmt}", summary="Posting updates (not offered)")
async def post_update(fmt: str) -> Response:
    raise NotSupported("posting service request updates is not supported by this endpoint")


def _request(report: Report, request: Request, lang: str) -> dict[str, Any]:
    url = None
    if report.photos:
        url = str(request.base_url).rstrip("/") + f"/api/v1/photos/{report.photos[0].id}"
    return s.service_request(report, lang, url)
