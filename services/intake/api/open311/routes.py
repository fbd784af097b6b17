"""Open311 GeoReport v2 (`/open311/v2`): every resource as `.json` and `.xml`; refusals in the
spec's error list (`Open311Route`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.intake.api.deps import (
    CREATE_LIMIT,
    READ_LIMIT,
    IdempotencyDep,
    LangDep,
    Open311Dep,
    QueriesDep,
)
from services.intake.domain.errors import InvalidInput, NotFound, NotSupported
from services.intake.domain.report import Report
from services.intake.usecases.open311 import Open311

from . import forms
from . import serializers as s
from .errors import Open311Route

PREFIX = "/open311/v2"
CHANGESET = "2026-01-01T00:00:00+00:00"

# Every resource is rate limited per client: reads here, POST requests by the create limit.
router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)
READ = [READ_LIMIT]


async def authorized_form(request: Request, open311: Open311Dep) -> FormData:
    """The form of a POST, from a client with a valid `api_key`."""
    try:
        form = await request.form(max_files=0, max_fields=200, max_part_size=64 * 1024)
    except StarletteHTTPException as exc:  # the form parser's refusal
        raise InvalidInput(str(exc.detail)) from exc
    open311.authorize(str(form.get("api_key") or ""))
    return form


AuthorizedForm = Annotated[FormData, Depends(authorized_form)]


@router.get("/discovery.{fmt}", summary="Service discovery", dependencies=READ)
async def discovery(fmt: str, open311: Open311Dep) -> Response:
    endpoint = {
        "specification": s.SPEC_URL,
        "url": open311.base_url + PREFIX,  # PUBLIC_BASE_URL, never the request's Host
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


@router.get("/services.{fmt}", summary="Service list (categories)", dependencies=READ)
async def services(fmt: str, queries: QueriesDep, lang: LangDep) -> Response:
    catalog = await queries.catalog()
    return s.render(fmt, "services", [s.service(c, lang) for c in catalog.categories()])


@router.get(
    "/services/{service_code}.{fmt}", summary="Service definition (attributes)", dependencies=READ
)
async def service_definition(
    service_code: str, fmt: str, queries: QueriesDep, lang: LangDep
) -> Response:
    category = (await queries.catalog()).category(service_code)
    if category is None:
        raise NotFound(f"service_code {service_code} not found")
    return s.render(fmt, "service_definition", s.definition(category, lang))


@router.post(
    "/requests.{fmt}",
    summary="Create a service request (form-encoded, api_key)",
    dependencies=[CREATE_LIMIT],  # before the form is read or the key checked
)
async def create_request(
    fmt: str, form: AuthorizedForm, scope: IdempotencyDep, open311: Open311Dep
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


@router.get(
    "/requests.{fmt}", summary="Service requests, with the spec's filters", dependencies=READ
)
async def list_requests(fmt: str, request: Request, open311: Open311Dep, lang: LangDep) -> Response:
    q = request.query_params
    page = forms.integer(q.get("page"), "page", 1, 1, 10**6)
    size = forms.integer(q.get("page_size"), "page_size", 50, 1, open311.max_page_size)
    found = await open311.requests(forms.request_filter(q), page, size)
    return s.render(fmt, "service_requests", [_request(r, open311, lang) for r in found])


@router.get("/requests/{request_id}.{fmt}", summary="One service request", dependencies=READ)
async def get_request(
    request_id: str, fmt: str, open311: Open311Dep, queries: QueriesDep, lang: LangDep
) -> Response:
    report = await queries.get(request_id)
    return s.render(fmt, "service_requests", [_request(report, open311, lang)])


@router.get("/tokens/{token}.{fmt}", summary="Request id from a token", dependencies=READ)
async def token(token: str, fmt: str, queries: QueriesDep) -> Response:
    """Requests are created in real time, so the token is the request id itself."""
    report = await queries.get(token)
    return s.render(
        fmt, "service_requests", [{"service_request_id": report.id, "token": report.id}]
    )


@router.get(
    "/servicerequestupdates.{fmt}",
    summary="Status updates of requests (mySociety extension, as polled by FixMyStreet)",
    dependencies=READ,
)
async def list_updates(fmt: str, request: Request, open311: Open311Dep, lang: LangDep) -> Response:
    """Public data: no api_key needed (the extension's documentation says so); FixMyStreet
    sends its key anyway, and like the other GETs it is ignored. `jurisdiction_id` likewise."""
    q = request.query_params
    start, end = forms.window(q.get("start_date"), q.get("end_date"))
    found = await open311.updates(start, end, lang)
    return s.render(fmt, "service_request_updates", [s.request_update(u) for u in found])


@router.post(
    "/servicerequestupdates.{fmt}", summary="Posting updates (not offered)", dependencies=READ
)
async def post_update(fmt: str) -> Response:
    raise NotSupported("posting service request updates is not supported by this endpoint")


def _request(report: Report, open311: Open311, lang: str) -> dict[str, Any]:
    url = open311.file_report.photo_url(report.photos[0].id) if report.photos else None
    return s.service_request(report, lang, url)
