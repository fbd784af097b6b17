"""The resident API (`/api/v1`): thin routes over the `Intake` use cases."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.intake.domain.catalog import Lang, localized, pick_language
from services.intake.domain.errors import InvalidInput, PhotoRejected
from services.intake.domain.idempotency import client_identity
from services.intake.domain.paging import decode_cursor, encode_cursor
from services.intake.domain.photos import CleanPhoto, sanitize
from services.intake.domain.ratelimit import TokenBuckets
from services.intake.schemas import (
    CategoryAttributePublic,
    CategoryList,
    CategoryPublic,
    NearbyList,
    NearbyReport,
    Page,
    RatingIn,
    ReopenIn,
    ReportCreate,
    ReportCreated,
    ReportPublic,
    Timeline,
)
from services.intake.service import Intake
from services.intake.uploads import read_multipart
from shared.events import Status

router = APIRouter(prefix="/api/v1", tags=["resident"])

IDEMPOTENCY_KEY_MAX = 200
CLIENT_ID_MAX = 200


def get_intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


def get_lang(accept_language: Annotated[str | None, Header()] = None) -> Lang:
    return pick_language(accept_language)


IntakeDep = Annotated[Intake, Depends(get_intake)]
LangDep = Annotated[Lang, Depends(get_lang)]
TokenHeader = Annotated[
    str | None, Header(alias="X-Tracking-Token", description="The report's tracking token")
]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def idempotency_scope(
    request: Request, key: str | None, client_id: str | None
) -> tuple[str | None, str]:
    """The checked `Idempotency-Key` header and the client it belongs to (`X-Client-Id`, else
    the client IP)."""
    if key is not None and not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
        raise InvalidInput(
            f"Idempotency-Key must be 1-{IDEMPOTENCY_KEY_MAX} characters", field="Idempotency-Key"
        )
    if client_id is not None and len(client_id) > CLIENT_ID_MAX:
        raise InvalidInput(f"X-Client-Id is over {CLIENT_ID_MAX} characters", field="X-Client-Id")
    return key, client_identity(client_id, client_ip(request))


def rate_limit_create(request: Request) -> None:
    """Per client IP, in this replica's memory (N replicas allow N times the rate)."""
    limiter: TokenBuckets = request.app.state.create_limiter
    wait = limiter.take(client_ip(request))
    if wait > 0:
        get_intake(request).metrics.rate_limited.inc()
        retry = max(1, int(wait + 0.999))
        raise StarletteHTTPException(
            429,
            f"too many reports from this client; retry in {retry}s",
            {"Retry-After": str(retry)},
        )


# ---------------------------------------------------------------------- categories


@router.get(
    "/categories", response_model=CategoryList, summary="Categories (vi/en by Accept-Language)"
)
async def categories(intake: IntakeDep, lang: LangDep) -> CategoryList:
    catalog = await intake.catalog()
    return CategoryList(
        version=catalog.version,
        language=lang,
        items=[
            CategoryPublic(
                code=c.code,
                name=localized(c.name, lang),
                description=localized(c.description, lang) if c.description else "",
                group=c.group,
                deadline_hours=c.deadline_hours,
                attributes=[
                    CategoryAttributePublic(
                        code=a.code,
                        datatype=a.datatype,
                        required=a.required,
                        description=localized(a.description, lang),
                        order=a.order,
                        values=[
                            {"key": str(v.get("key")), "name": localized(v.get("name") or {}, lang)}
                            for v in a.values
                        ],
                    )
                    for a in sorted(c.attributes, key=lambda a: a.order)
                ],
            )
            for c in catalog.categories()
        ],
    )


# ---------------------------------------------------------------------- create


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` inlined (OpenAPI resolves refs from its root)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    inlined: dict[str, Any] = resolve(schema)
    return inlined


_CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline_schema(ReportCreate)},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "report": {"type": "string", "description": "ReportCreate as JSON"},
                        "photos": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "maxItems": 5,
                        },
                    },
                }
            },
        },
    }
}


@router.post(
    "/reports",
    status_code=201,
    response_model=ReportCreated,
    summary="File a report (JSON, or multipart with up to 5 photos)",
    openapi_extra=_CREATE_BODY,
    dependencies=[Depends(rate_limit_create)],
)
async def create_report(
    request: Request,
    response: Response,
    intake: IntakeDep,
    lang: LangDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retry key, scoped to the client (X-Client-Id, else the client IP)",
        ),
    ] = None,
    client_id: Annotated[
        str | None,
        Header(alias="X-Client-Id", description="Stable, random id of the app install"),
    ] = None,
) -> ReportCreated:
    key, client = idempotency_scope(request, idempotency_key, client_id)
    body, raw_photos = await _read_create(request, intake)
    photos, digests = await _sanitize_all(intake, raw_photos)
    created = await intake.create(
        body.draft(),
        photos,
        channel="api",
        idempotency_key=key,
        client=client,
        photo_digests=digests,
    )
    if created.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    view = ReportPublic.of(created.report, lang)
    return ReportCreated(
        **view.model_dump(),
        tracking_token=created.tracking_token,
        possible_duplicates=[NearbyReport.of(d) for d in created.possible_duplicates],
    )


async def _read_create(request: Request, intake: Intake) -> tuple[ReportCreate, list[bytes]]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    s = intake.settings
    if ctype == "multipart/form-data":
        try:
            form = await read_multipart(
                request, max_files=s.max_photos, max_file_bytes=s.photo_max_bytes
            )
        except PhotoRejected as exc:
            intake.metrics.photo_rejections.labels(exc.reason).inc()
            raise
        if "report" in form.fields:
            data: Any = _json(form.fields["report"])
        else:
            data = _flat_form(form.fields)
        return _validate(data), [f[1] for f in form.files]
    if ctype in ("application/json", ""):
        max_body = 256 * 1024
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > max_body:
                raise StarletteHTTPException(413, f"JSON body over {max_body} bytes")
        return _validate(_json(bytes(raw).decode("utf-8", "replace"))), []
    raise StarletteHTTPException(415, "use application/json or multipart/form-data")


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput("body is not valid JSON", field="body") from exc


def _flat_form(fields: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        k: v for k, v in fields.items() if not k.startswith(("contact_", "attributes"))
    }
    contact = {k[8:]: v for k, v in fields.items() if k.startswith("contact_") and v}
    if contact:
        data["contact"] = contact
    if fields.get("attributes"):
        data["attributes"] = _json(fields["attributes"])
    return data


def _validate(data: Any) -> ReportCreate:
    try:
        return ReportCreate.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc


async def _sanitize_all(intake: Intake, raw: list[bytes]) -> tuple[list[CleanPhoto], list[str]]:
    s = intake.settings
    clean: list[CleanPhoto] = []
    for data in raw:
        try:
            # decoding and re-encoding is CPU work: keep it off the event loop
            clean.append(
                await asyncio.to_thread(
                    sanitize, data, max_pixels=s.photo_max_pixels, thumb_px=s.thumb_px
                )
            )
        except PhotoRejected as exc:
            intake.metrics.photo_rejections.labels(exc.reason).inc()
            raise
    return clean, [hashlib.sha256(d).hexdigest() for d in raw]


# ---------------------------------------------------------------------- read


@router.get("/reports", response_model=Page, summary="Public feed, newest first, cursor paging")
async def feed(
    intake: IntakeDep,
    lang: LangDep,
    status: Annotated[Status | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    agency: Annotated[str | None, Query(max_length=100)] = None,
    bbox: Annotated[
        str | None, Query(description="min_lon,min_lat,max_lon,max_lat", max_length=100)
    ] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Page:
    query: dict[str, Any] = {}
    if status:
        query["status"] = status.value
    if category:
        query["category"] = category
    if agency:
        query["agency_id"] = agency
    if bbox:
        min_lon, min_lat, max_lon, max_lat = _bbox(bbox)
        query["lat"] = {"$gte": min_lat, "$lte": max_lat}
        query["lon"] = {"$gte": min_lon, "$lte": max_lon}
    if created_from or created_to:
        query["created_at"] = {
            **({"$gte": created_from} if created_from else {}),
            **({"$lt": created_to} if created_to else {}),
        }
    after = decode_cursor(cursor) if cursor else None
    docs = await intake.store.feed(query, limit + 1, after)
    more = len(docs) > limit
    docs = docs[:limit]
    nxt = encode_cursor(docs[-1]["created_at"], docs[-1]["_id"]) if more and docs else None
    return Page(items=[ReportPublic.of(d, lang) for d in docs], next_cursor=nxt)


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(x) for x in text.split(","))
    except ValueError as exc:
        raise InvalidInput("bbox must be min_lon,min_lat,max_lon,max_lat", field="bbox") from exc
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise InvalidInput("bbox out of range or inverted", field="bbox")
    return min_lon, min_lat, max_lon, max_lat


@router.get("/reports/nearby", response_model=NearbyList, summary="Open reports near a point")
async def nearby(
    intake: IntakeDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    category: Annotated[str | None, Query(max_length=100)] = None,
    radius_m: Annotated[float, Query(gt=0)] = 200.0,
) -> NearbyList:
    if radius_m > intake.settings.nearby_max_radius_m:
        raise InvalidInput(
            f"radius_m is capped at {intake.settings.nearby_max_radius_m:g}", field="radius_m"
        )
    docs = await intake.nearby(lat, lon, radius_m, category)
    return NearbyList(items=[NearbyReport.of(d) for d in docs])


@router.get("/reports/{report_id}", response_model=ReportPublic, summary="Public view of a report")
async def get_report(report_id: str, intake: IntakeDep, lang: LangDep) -> ReportPublic:
    return ReportPublic.of(await intake.get(report_id), lang)


@router.get(
    "/reports/{report_id}/timeline",
    response_model=Timeline,
    summary="Full timeline (tracking token)",
)
async def timeline(
    report_id: str,
    intake: IntakeDep,
    lang: LangDep,
    token: TokenHeader = None,
    token_q: Annotated[str | None, Query(alias="token", max_length=100)] = None,
) -> Timeline:
    return Timeline.of(await intake.tracked(report_id, token or token_q), lang)


@router.post(
    "/reports/{report_id}/rating", response_model=ReportPublic, summary="Rate a resolved report"
)
async def rate(
    report_id: str, body: RatingIn, intake: IntakeDep, lang: LangDep, token: TokenHeader = None
) -> ReportPublic:
    return ReportPublic.of(await intake.rate(report_id, token, body.rating, body.comment), lang)


@router.post(
    "/reports/{report_id}/reopen",
    response_model=ReportPublic,
    summary="Reopen a resolved or closed report",
)
async def reopen(
    report_id: str, body: ReopenIn, intake: IntakeDep, lang: LangDep, token: TokenHeader = None
) -> ReportPublic:
    return ReportPublic.of(await intake.reopen(report_id, token, body.reason), lang)


@router.post(
    "/reports/{report_id}/support",
    response_model=ReportPublic,
    summary="+1 an open report (once per client)",
)
async def support(
    report_id: str,
    request: Request,
    intake: IntakeDep,
    lang: LangDep,
    client_id: Annotated[str | None, Header(alias="X-Client-Id", max_length=200)] = None,
) -> ReportPublic:
    fingerprint = "|".join(
        (client_id or "", client_ip(request), request.headers.get("user-agent", ""))
    )
    return ReportPublic.of(await intake.support(report_id, fingerprint), lang)


# ---------------------------------------------------------------------- photos


@router.get("/photos/{photo_id}", summary="A report photo (metadata stripped)")
async def photo(photo_id: str, intake: IntakeDep) -> Response:
    return await _photo(intake, photo_id)


@router.get("/photos/{photo_id}/thumb", summary="A report photo's thumbnail")
async def thumb(photo_id: str, intake: IntakeDep) -> Response:
    return await _photo(intake, f"{photo_id}-thumb")


async def _photo(intake: Intake, file_id: str) -> Response:
    found = await intake.store.photo(file_id)
    if found is None:
        raise StarletteHTTPException(404, "photo not found")
    data, ctype = found
    return Response(
        data,
        media_type=ctype,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
