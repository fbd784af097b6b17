"""Open311 GeoReport v2 (`/open311/v2`): every resource as `.json` and `.xml`, spec errors."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.intake.api import client_ip, get_intake, idempotency_scope
from services.intake.domain import updates
from services.intake.domain.catalog import Catalog, pick_language
from services.intake.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
)
from services.intake.domain.ratelimit import TokenBuckets
from services.intake.domain.report import Contact, ReportDraft
from services.intake.domain.rules import OPEN
from services.intake.open311 import serializers as s
from services.intake.service import Intake
from services.intake.store import valid_id
from shared.events import Status, utcnow
from shared.mongo import Document

PREFIX = "/open311/v2"
FORMATS = ("json", "xml")
DEFAULT_WINDOW = timedelta(days=90)  # the spec's default when no dates are given
ATTRIBUTE_RE = re.compile(r"^attribute\[([^\]]{1,100})\](\[\])?$")
URL_RE = re.compile(r"^https?://[^\s]{1,490}$")

router = APIRouter(prefix=PREFIX, tags=["open311"])


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


async def _answer(fmt: str, work: Callable[[], Awaitable[Response]]) -> Response:
    """Runs a resource and renders any refusal as the spec's error array, in the asked format."""
    if fmt not in FORMATS:
        return s.errors("json", 404, "unknown format: use .json or .xml")
    try:
        return await work()
    except Open311Error as exc:
        return s.errors(fmt, exc.status, exc.description)
    except StarletteHTTPException as exc:
        response = s.errors(fmt, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response
    except DomainError as exc:
        status = {
            InvalidInput: 400,
            NotFound: 404,
            Forbidden: 403,
            Conflict: 409,
            Unavailable: 503,
        }.get(type(exc), 400)
        return s.errors(fmt, status, exc.message)


def _lang(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


# ---------------------------------------------------------------------- discovery, services


@router.get("/discovery.{fmt}", summary="Service discovery")
async def discovery(fmt: str, request: Request) -> Response:
    async def work() -> Response:
        base = str(request.base_url).rstrip("/") + PREFIX
        return s.render(
            fmt,
            "discovery",
            {
                "changeset": "2026-01-01T00:00:00+00:00",
                "contact": "IOC field reports",
                "key_service": "api_key issued by the IOC (setting OPEN311_API_KEYS)",
                "endpoints": [
                    {
                        "specification": s.SPEC_URL,
                        "url": base,
                        "changeset": "2026-01-01T00:00:00+00:00",
                        "type": "production",
                        "formats": ["text/xml", "application/json"],
                    }
                ],
            },
        )

    return await _answer(fmt, work)


@router.get("/services.{fmt}", summary="Service list (categories)")
async def services(fmt: str, request: Request) -> Response:
    async def work() -> Response:
        catalog = await get_intake(request).catalog()
        lang = _lang(request)
        return s.render(fmt, "services", [s.service(c, lang) for c in catalog.categories()])

    return await _answer(fmt, work)


@router.get("/services/{service_code}.{fmt}", summary="Service definition (attributes)")
async def service_definition(service_code: str, fmt: str, request: Request) -> Response:
    async def work() -> Response:
        catalog = await get_intake(request).catalog()
        category = catalog.category(service_code)
        if category is None:
            raise Open311Error(404, f"service_code {service_code} not found")
        return s.render(fmt, "service_definition", s.definition(category, _lang(request)))

    return await _answer(fmt, work)


# ---------------------------------------------------------------------- requests


@router.post("/requests.{fmt}", summary="Create a service request (form-encoded, api_key)")
async def create_request(fmt: str, request: Request) -> Response:
    async def work() -> Response:
        intake = get_intake(request)
        form = await request.form(max_files=0, max_fields=200, max_part_size=64 * 1024)
        key = str(form.get("api_key") or "")
        if not key or key not in intake.settings.open311_keys:
            raise Open311Error(403, "a valid api_key is required to create a request")
        idem_key, client = idempotency_scope(
            request, request.headers.get("idempotency-key"), request.headers.get("x-client-id")
        )
        _rate_limit(request, intake)
        draft = _known_attributes(_draft(form), await intake.catalog())
        created = await intake.create(
            draft, [], channel="open311", idempotency_key=idem_key, client=client
        )
        item = {
            "service_request_id": created.report["_id"],
            "service_notice": "",
            "account_id": str(form.get("account_id") or ""),
        }
        if created.replayed:
            response = s.render(fmt, "service_requests", [item], 200)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        return s.render(fmt, "service_requests", [item], 201)

    return await _answer(fmt, work)


@router.get("/requests.{fmt}", summary="Service requests, with the spec's filters")
async def list_requests(fmt: str, request: Request) -> Response:
    async def work() -> Response:
        intake = get_intake(request)
        q = request.query_params
        query: dict[str, Any] = {}
        ids = _list(q.get("service_request_id"))
        page, size = (
            _int(q.get("page"), "page", 1, 1, 10**6),
            _int(q.get("page_size"), "page_size", 50, 1, intake.settings.open311_max_page_size),
        )
        if ids:  # the spec: with ids, the other filters are ignored
            query["_id"] = {"$in": [i for i in ids if valid_id(i)]}
        else:
            codes = _list(q.get("service_code"))
            if codes:
                query["category"] = {"$in": codes}
            start, end = (
                _date(q.get("start_date"), "start_date"),
                _date(q.get("end_date"), "end_date"),
            )
            if start is None and end is None:
                start = utcnow() - DEFAULT_WINDOW
            query["created_at"] = {
                **({"$gte": start} if start else {}),
                **({"$lte": end} if end else {}),
            }
            statuses = _list(q.get("status"))
            if statuses:
                if not set(statuses) <= {"open", "closed"}:
                    raise Open311Error(400, "status must be open and/or closed")
                if statuses == ["open"] or set(statuses) == {"open"}:
                    query["status"] = {"$in": [x.value for x in OPEN]}
                elif set(statuses) == {"closed"}:
                    query["status"] = {"$in": [x.value for x in Status if x not in OPEN]}
        docs = await intake.store.find_page(query, (page - 1) * size, size)
        return s.render(fmt, "service_requests", [_request_view(intake, d, request) for d in docs])

    return await _answer(fmt, work)


@router.get("/requests/{request_id}.{fmt}", summary="One service request")
async def get_request(request_id: str, fmt: str, request: Request) -> Response:
    async def work() -> Response:
        intake = get_intake(request)
        doc = await intake.get(request_id)
        return s.render(fmt, "service_requests", [_request_view(intake, doc, request)])

    return await _answer(fmt, work)


@router.get("/tokens/{token}.{fmt}", summary="Request id from a token")
async def token(token: str, fmt: str, request: Request) -> Response:
    """Requests are created in real time, so the token is the request id itself."""

    async def work() -> Response:
        doc = await get_intake(request).get(token)
        return s.render(
            fmt, "service_requests", [{"service_request_id": doc["_id"], "token": doc["_id"]}]
        )

    return await _answer(fmt, work)


# ---------------------------------------------------------------------- updates (mySociety)


@router.get(
    "/servicerequestupdates.{fmt}",
    summary="Status updates of requests (mySociety extension, as polled by FixMyStreet)",
)
async def list_updates(fmt: str, request: Request) -> Response:
    """Public data: no api_key needed (the extension's documentation says so); FixMyStreet
    sends its key anyway, and like the other GETs it is ignored. `jurisdiction_id` likewise."""

    async def work() -> Response:
        intake = get_intake(request)
        q = request.query_params
        start, end = _window(q.get("start_date"), q.get("end_date"))
        cap = intake.settings.open311_max_updates
        docs = await intake.store.with_timeline_in(start, end, cap + 1)
        found = updates.in_window(docs, _lang(request), start, end)
        if len(docs) > cap or len(found) > cap:
            raise Open311Error(
                400,
                f"more than {cap} updates between start_date and end_date: ask a shorter window",
            )
        return s.render(fmt, "service_request_updates", [s.request_update(u) for u in found])

    return await _answer(fmt, work)


@router.post("/servicerequestupdates.{fmt}", summary="Posting updates (not offered)")
async def post_update(fmt: str) -> Response:
    async def work() -> Response:
        raise Open311Error(501, "posting service request updates is not supported by this endpoint")

    return await _answer(fmt, work)


def _window(start_s: str | None, end_s: str | None) -> tuple[datetime, datetime]:
    """Both dates, one of them, or neither (then the last 90 days); never longer than that."""
    start, end = _date(start_s, "start_date"), _date(end_s, "end_date")
    if end is None:
        end = utcnow() if start is None else min(utcnow(), start + DEFAULT_WINDOW)
    if start is None:
        start = end - DEFAULT_WINDOW
    if start > end:
        raise Open311Error(400, "start_date must not be after end_date")
    if end - start > DEFAULT_WINDOW:
        raise Open311Error(400, "start_date and end_date may be at most 90 days apart")
    return start, end


# ---------------------------------------------------------------------- helpers


def _request_view(intake: Intake, doc: Document, request: Request) -> dict[str, Any]:
    photos = doc.get("photos") or []
    url = None
    if photos:
        url = str(request.base_url).rstrip("/") + f"/api/v1/photos/{photos[0]['id']}"
    return s.service_request(doc, _lang(request), url)


def _rate_limit(request: Request, intake: Intake) -> None:
    limiter: TokenBuckets = request.app.state.create_limiter
    wait = limiter.take(client_ip(request))
    if wait > 0:
        intake.metrics.rate_limited.inc()
        retry = max(1, int(wait + 0.999))
        raise StarletteHTTPException(
            429,
            f"too many requests from this client; retry in {retry}s",
            {"Retry-After": str(retry)},
        )


def _draft(form: FormData) -> ReportDraft:
    code = _text(form, "service_code", 100)
    if not code:
        raise Open311Error(400, "service_code is required")
    lat_s, lon_s = form.get("lat"), form.get("long")
    if not lat_s or not lon_s:
        raise Open311Error(
            400,
            "lat and long are required: this jurisdiction has no geocoder, so address_string "
            "alone cannot be located (it is kept as the address when given with lat/long)",
        )
    try:
        lat, lon = float(str(lat_s)), float(str(lon_s))
    except ValueError as exc:
        raise Open311Error(400, "lat and long must be numbers") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Open311Error(400, "lat/long out of range")
    description = _text(form, "description", 4000)
    if not description:
        raise Open311Error(400, "description is required")
    # several `media_url` values come from clients sending every photo (FixMyStreet's
    # multi_photos); the first one is kept
    media_urls = [str(v).strip() for v in form.getlist("media_url") if str(v).strip()]
    media_url = media_urls[0] if media_urls else None
    if media_url and len(media_url) > 500:
        raise Open311Error(400, "media_url is longer than 500 characters")
    if media_url and not URL_RE.match(media_url):
        raise Open311Error(400, "media_url must be an http(s) URL")
    name = " ".join(x for x in (_text(form, "first_name", 100), _text(form, "last_name", 100)) if x)
    email, phone = _text(form, "email", 254), _text(form, "phone", 32)
    if email and not re.match(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$", email):
        raise Open311Error(400, "email is not valid")
    contact = Contact(name or None, email, phone) if (name or email or phone) else None
    return ReportDraft(
        category=code,
        lat=lat,
        lon=lon,
        description=description,
        address=_text(form, "address_string", 300),
        language=pick_language(str(form.get("locale") or "")) if form.get("locale") else "vi",
        contact=contact,
        attributes=_attributes(form),
        media_url=media_url,
    )


def _known_attributes(draft: ReportDraft, catalog: Catalog) -> ReportDraft:
    """Drops `attribute[...]` answers the service does not define: real clients send extra ones
    (FixMyStreet adds cobrand fields such as `fixmystreet_id`, `easting`, `report_url`). The
    resident API stays strict; required attributes are still checked by the use case."""
    category = catalog.category(draft.category)
    if category is None:
        return draft
    known = {a.code for a in category.attributes}
    return replace(draft, attributes={k: v for k, v in draft.attributes.items() if k in known})


def _attributes(form: FormData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in form:
        m = ATTRIBUTE_RE.match(key)
        if not m:
            continue
        values = [str(v) for v in form.getlist(key) if str(v) != ""]
        if values:  # an empty answer is no answer (clients send blank optional fields)
            out[m.group(1)] = values if m.group(2) else values[-1]
    return out


def _text(form: FormData, name: str, cap: int) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > cap:
        raise Open311Error(400, f"{name} is longer than {cap} characters")
    return text or None


def _list(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").split(",") if x.strip()]


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be an integer") from exc
    if not low <= number <= high:
        raise Open311Error(400, f"{name} must be between {low} and {high}")
    return number


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time with zone") from exc
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} must include a time zone")
    return parsed
