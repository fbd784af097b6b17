"""The resident API (`/api/v1`): each route decodes, calls a use case and encodes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.intake.domain.errors import InvalidInput
from services.intake.domain.filters import FeedFilter, parse_bbox
from services.intake.schemas import (
    CategoryList,
    NearbyList,
    NearbyReport,
    Page,
    RatingIn,
    ReopenIn,
    ReportCreated,
    ReportPublic,
    ResidentTokenOut,
    Timeline,
)
from shared.events import Status

from .create_body import CREATE_BODY, read_create
from .deps import (
    ACT_LIMIT,
    CREATE_LIMIT,
    READ_LIMIT,
    RESIDENT_TOKEN_LIMIT,
    FileReportDep,
    IdempotencyDep,
    LangDep,
    QueriesDep,
    ResidentDep,
    ResidentIdDep,
    ResidentTokensDep,
    TokenHeader,
    ZoneDep,
)

router = APIRouter(prefix="/api/v1", tags=["resident"])

PHOTO_HEADERS = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}


@router.get(
    "/categories",
    response_model=CategoryList,
    summary="Categories (vi/en by Accept-Language)",
    dependencies=[READ_LIMIT],
)
async def categories(queries: QueriesDep, lang: LangDep) -> CategoryList:
    return CategoryList.of(await queries.catalog(), lang)


@router.post(
    "/reports",
    status_code=201,
    response_model=ReportCreated,
    summary="File a report (JSON, or multipart with up to 5 photos)",
    openapi_extra=CREATE_BODY,
    dependencies=[CREATE_LIMIT],
)
async def create_report(
    request: Request,
    response: Response,
    file_report: FileReportDep,
    lang: LangDep,
    zone: ZoneDep,
    scope: IdempotencyDep,
) -> ReportCreated:
    body, photos = await read_create(request, file_report)
    created = await file_report(
        body.draft(), photos, channel="api", idempotency_key=scope.key, client=scope.client
    )
    if created.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return ReportCreated.of_created(created, lang, zone)


@router.get(
    "/reports",
    response_model=Page,
    summary="Public feed, newest first, cursor paging",
    dependencies=[READ_LIMIT],
)
async def feed(
    queries: QueriesDep,
    lang: LangDep,
    zone: ZoneDep,
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
    where = FeedFilter(
        status, category, agency, parse_bbox(bbox) if bbox else None, created_from, created_to
    )
    page = await queries.feed(where, cursor, limit)
    return Page(
        items=[ReportPublic.of(r, lang, zone) for r in page.reports], next_cursor=page.next_cursor
    )


@router.get(
    "/reports/nearby",
    response_model=NearbyList,
    summary="Open reports near a point",
    dependencies=[READ_LIMIT],
)
async def nearby(
    queries: QueriesDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    category: Annotated[str | None, Query(max_length=100)] = None,
    radius_m: Annotated[float, Query(gt=0)] = 200.0,
) -> NearbyList:
    found = await queries.nearby(lat, lon, radius_m, category)
    return NearbyList(items=[NearbyReport.of(n) for n in found])


@router.get(
    "/reports/{report_id}",
    response_model=ReportPublic,
    summary="Public view of a report",
    dependencies=[READ_LIMIT],
)
async def get_report(
    report_id: str, queries: QueriesDep, lang: LangDep, zone: ZoneDep
) -> ReportPublic:
    return ReportPublic.of(await queries.get(report_id), lang, zone)


@router.get(
    "/reports/{report_id}/timeline",
    response_model=Timeline,
    summary="Full timeline (tracking token in the X-Tracking-Token header)",
    dependencies=[READ_LIMIT],
)
async def timeline(
    report_id: str,
    request: Request,
    queries: QueriesDep,
    lang: LangDep,
    zone: ZoneDep,
    token: TokenHeader = None,
) -> Timeline:
    if "token" in request.query_params:  # proxy logs and Referer headers keep URLs
        raise InvalidInput(
            "send the tracking token in the X-Tracking-Token header, never in the URL",
            field="token",
        )
    return Timeline.of(await queries.tracked(report_id, token), lang, zone)


@router.post(
    "/reports/{report_id}/rating",
    response_model=ReportPublic,
    summary="Rate a resolved report",
    dependencies=[ACT_LIMIT],
)
async def rate(
    report_id: str,
    body: RatingIn,
    resident: ResidentDep,
    lang: LangDep,
    zone: ZoneDep,
    token: TokenHeader = None,
) -> ReportPublic:
    rated = await resident.rate(report_id, token, body.rating, body.comment)
    return ReportPublic.of(rated, lang, zone)


@router.post(
    "/reports/{report_id}/reopen",
    response_model=ReportPublic,
    summary="Reopen a resolved or closed report",
    dependencies=[ACT_LIMIT],
)
async def reopen(
    report_id: str,
    body: ReopenIn,
    resident: ResidentDep,
    lang: LangDep,
    zone: ZoneDep,
    token: TokenHeader = None,
) -> ReportPublic:
    return ReportPublic.of(await resident.reopen(report_id, token, body.reason), lang, zone)


@router.post(
    "/reports/{report_id}/support",
    response_model=ReportPublic,
    summary="+1 an open report (once per resident: X-Resident-Token)",
    dependencies=[ACT_LIMIT],
)
async def support(
    report_id: str, resident_id: ResidentIdDep, resident: ResidentDep, lang: LangDep, zone: ZoneDep
) -> ReportPublic:
    return ReportPublic.of(await resident.support(report_id, resident_id), lang, zone)


@router.post(
    "/residents",
    status_code=201,
    response_model=ResidentTokenOut,
    summary="An anonymous resident token (needed for +1); a few per client address",
    dependencies=[RESIDENT_TOKEN_LIMIT],
)
async def resident_token(tokens: ResidentTokensDep) -> ResidentTokenOut:
    issued = tokens.issue()
    return ResidentTokenOut(resident_token=issued.token, expires_at=issued.expires_at)


@router.get(
    "/photos/{photo_id}", summary="A report photo (metadata stripped)", dependencies=[READ_LIMIT]
)
async def photo(photo_id: str, queries: QueriesDep) -> Response:
    found = await queries.photo(photo_id)
    return Response(found.data, media_type=found.content_type, headers=PHOTO_HEADERS)


@router.get(
    "/photos/{photo_id}/thumb", summary="A report photo's thumbnail", dependencies=[READ_LIMIT]
)
async def thumb(photo_id: str, queries: QueriesDep) -> Response:
    found = await queries.photo(f"{photo_id}-thumb")
    return Response(found.data, media_type=found.content_type, headers=PHOTO_HEADERS)
