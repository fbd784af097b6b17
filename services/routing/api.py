"""Routing's HTTP API: login, public catalogue, staff queue and actions, operator and admin.

No `from __future__ import annotations` here: FastAPI must resolve the dependency aliases
defined inside `build_router` at definition time.
"""

import asyncio
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response, Security
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field, ValidationError
from python_multipart.exceptions import MultipartParseError

from services.routing.auth import AccountRefused
from services.routing.domain.assignment import OPEN, Assignment
from services.routing.domain.jurisdiction import InvalidJurisdiction
from services.routing.photos import PhotoStore
from services.routing.service import RoutingService, actor_of, now_ms
from shared.auth import Principal, TokenCodec, principal_dependency
from shared.events import CategoryV1, GeoPoint
from shared.http import ApiError
from shared.images import PhotoRejected, sanitize
from shared.uploads import UploadRefused, read_multipart

NOTE_MAX_BYTES = 16 * 1024  # 4000 characters of UTF-8

# ------------------------------------------------------------------ schemas


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds")
    scope: str


class AgencyOut(BaseModel):
    id: str
    name: dict[str, str]
    kind: str


T = TypeVar("T")


class Items(BaseModel, Generic[T]):
    items: list[T]


class AssignmentOut(BaseModel):
    """What staff see: never who reported it."""

    id: str
    report_id: str
    agency_id: str
    status: str
    category: str
    location: GeoPoint
    due_at: datetime
    overdue: bool
    attempt: int
    reason: str
    rule_id: str | None
    area_id: str | None
    duplicate_of: str | None
    escalations: int
    note: str | None
    photo_urls: list[str]
    created_at: datetime
    assigned_at: datetime


class AssignmentDetail(AssignmentOut):
    rejected_by: list[str]
    history: list[dict[str, Any]] = Field(description="Every change: action, by, at, details")


class NoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class TransferIn(BaseModel):
    agency_id: str = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


class ResolveIn(BaseModel):
    note: str = Field(min_length=1, max_length=4000)


class DuplicateIn(BaseModel):
    duplicate_of: str = Field(min_length=1, max_length=100, description="The original report id")


class AccountIn(BaseModel):
    password: str = Field(min_length=1, max_length=256, description="At least 12 characters")
    scopes: list[str] = Field(min_length=1, description="staff (with agency_id), operator, admin")
    agency_id: str | None = Field(default=None, description="Required for staff accounts")


class AccountOut(BaseModel):
    username: str
    scopes: list[str]
    agency_id: str | None
    demo: bool


class DismissIn(BaseModel):
    reason: Literal["spam", "not_public_matter"]
    note: str | None = Field(default=None, max_length=1000)


def _out(a: Assignment, service: RoutingService) -> dict[str, Any]:
    return {
        "id": a.id,
        "report_id": a.report_id,
        "agency_id": a.agency_id,
        "status": a.status.value,
        "category": a.category,
        "location": {"lat": a.lat, "lon": a.lon},
        "due_at": a.due_at,
        "overdue": a.overdue(now_ms()),
        "attempt": a.attempt,
        "reason": a.reason,
        "rule_id": a.rule_id,
        "area_id": a.area_id,
        "duplicate_of": a.duplicate_of,
        "escalations": a.escalations,
        "note": a.note,
        "photo_urls": [service.photo_url(i) for i in a.photo_ids],
        "created_at": a.created_at,
        "assigned_at": a.assigned_at,
        "rejected_by": a.rejected_by,
        "history": a.history,
    }


def summary(a: Assignment, service: RoutingService) -> AssignmentOut:
    return AssignmentOut.model_validate(_out(a, service))


def detail(a: Assignment, service: RoutingService) -> AssignmentDetail:
    return AssignmentDetail.model_validate(_out(a, service))


def sort_queue(items: list[Assignment]) -> list[Assignment]:
    """Overdue first, then by due time."""
    now = now_ms()
    return sorted(items, key=lambda a: (not a.overdue(now), a.due_at))


# ------------------------------------------------------------------ routers


def build_router(service: RoutingService, codec: TokenCodec, photos: PhotoStore) -> APIRouter:
    current = principal_dependency(codec)
    Staff = Annotated[Principal, Security(current, scopes=["staff", "operator"])]
    Operator = Annotated[Principal, Security(current, scopes=["operator"])]
    Admin = Annotated[Principal, Security(current, scopes=["admin"])]
    settings = service.settings
    r = APIRouter(prefix="/api/v1")

    @r.post("/auth/token", response_model=TokenOut, tags=["auth"])
    async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
        """OAuth2 password flow: staff (username = agency id in development), operator, admin."""
        principal = await service.accounts.authenticate(form.username, form.password)
        if principal is None:
            raise ApiError(401, "invalid_credentials", "wrong username or password")
        return TokenOut(
            access_token=codec.issue(principal),
            expires_in=int(codec.config.ttl.total_seconds()),
            scope=" ".join(principal.scopes),
        )

    @r.get("/agencies", response_model=Items[AgencyOut], tags=["catalogue"])
    async def agencies() -> Items[AgencyOut]:
        j = await service.jurisdiction()
        return Items(items=[AgencyOut(id=a.id, name=a.name, kind=a.kind) for a in j.agencies])

    @r.get("/categories", response_model=Items[CategoryV1], tags=["catalogue"])
    async def categories() -> Items[CategoryV1]:
        j = await service.jurisdiction()
        return Items(items=[c for c in j.categories if c.active])

    @r.get("/assignments", response_model=Items[AssignmentOut], tags=["staff"])
    async def queue(
        p: Staff,
        status: Annotated[list[str] | None, Query(description="Repeat or comma-separate")] = None,
        category: str | None = None,
        overdue: bool | None = None,
        report_id: str | None = None,
        agency_id: Annotated[str | None, Query(description="Operators only")] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 100,
    ) -> Items[AssignmentOut]:
        """The caller's agency's assignments (operators: any agency), overdue first, by due time."""
        if not p.has("operator"):
            agency_id = p.agency_id or "-"
        statuses = [s for v in status or [] for s in v.split(",") if s]
        found = await service.store.query(
            agency_id=agency_id,
            statuses=statuses or None,
            category=category,
            report_id=report_id,
            limit=limit,
            overdue=overdue,
            now=now_ms(),
        )
        return Items(items=[summary(a, service) for a in sort_queue(found)])

    @r.get("/triage", response_model=Items[AssignmentOut], tags=["operator"])
    async def triage(
        p: Operator, limit: Annotated[int, Query(ge=1, le=200)] = 100
    ) -> Items[AssignmentOut]:
        """The IOC triage queue: open assignments of the fallback agency."""
        j = await service.jurisdiction()
        found = await service.store.query(
            agency_id=j.fallback_agency,
            statuses=[s.value for s in OPEN],
            category=None,
            report_id=None,
            limit=limit,
        )
        return Items(items=[summary(a, service) for a in sort_queue(found)])

    @r.get("/assignments/{assignment_id}", response_model=AssignmentDetail, tags=["staff"])
    async def one(assignment_id: str, p: Staff) -> AssignmentDetail:
        return detail(await service.get(p, assignment_id), service)

    @r.post("/assignments/{assignment_id}/accept", response_model=AssignmentDetail, tags=["staff"])
    async def accept(assignment_id: str, p: Staff, body: NoteIn | None = None) -> AssignmentDetail:
        """Acknowledge: `report.accepted` (the public status stays `assigned`)."""
        note = body.note if body else None
        return detail(await service.accept(p, assignment_id, note), service)

    @r.post("/assignments/{assignment_id}/start", response_model=AssignmentDetail, tags=["staff"])
    async def start(assignment_id: str, p: Staff, body: NoteIn | None = None) -> AssignmentDetail:
        """Work started: `report.in_progress`."""
        note = body.note if body else None
        return detail(await service.start(p, assignment_id, note), service)

    @r.post("/assignments/{assignment_id}/reject", response_model=AssignmentDetail, tags=["staff"])
    async def reject(assignment_id: str, p: Staff, body: ReasonIn) -> AssignmentDetail:
        """Not ours: re-routed to the next agency by the rules that has not rejected it, else
        to IOC triage. The response shows where it went (staff may no longer see it after)."""
        return detail(await service.reject(p, assignment_id, body.reason), service)

    @r.post(
        "/assignments/{assignment_id}/transfer", response_model=AssignmentDetail, tags=["staff"]
    )
    async def transfer(assignment_id: str, p: Staff, body: TransferIn) -> AssignmentDetail:
        a = await service.transfer(p, assignment_id, body.agency_id, body.note)
        return detail(a, service)

    @r.post(
        "/assignments/{assignment_id}/resolve",
        response_model=AssignmentDetail,
        tags=["staff"],
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/json": {"schema": ResolveIn.model_json_schema()},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["note"],
                            "properties": {
                                "note": {"type": "string"},
                                "photos": {
                                    "type": "array",
                                    "items": {"type": "string", "format": "binary"},
                                },
                            },
                        }
                    },
                },
                "required": True,
            }
        },
    )
    async def resolve(assignment_id: str, p: Staff, request: Request) -> AssignmentDetail:
        """Resolve with a note (JSON), or a note and photos (multipart: `note`, `photos`)."""
        await service.get(p, assignment_id)  # 404 before storing any photo
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            note, photo_ids = await _resolve_form(request, assignment_id)
        else:
            try:
                note = ResolveIn.model_validate_json(await request.body()).note
            except ValidationError as exc:
                raise ApiError(422, "validation_error", "request is invalid") from exc
            photo_ids = []
        return detail(await service.resolve(p, assignment_id, note, photo_ids), service)

    async def _resolve_form(request: Request, assignment_id: str) -> tuple[str, list[str]]:
        """Caps are enforced while the body streams in: an oversized photo is refused (413)
        after its first `PHOTO_MAX_BYTES`, without the rest of the body being read."""
        try:
            form = await read_multipart(
                request,
                max_files=settings.photos_max_count,
                max_file_bytes=settings.photo_max_bytes,
                max_field_bytes=NOTE_MAX_BYTES,
                max_fields=settings.photos_max_count + 10,
            )
        except UploadRefused as exc:
            if exc.reason == "too_large":
                raise ApiError(
                    413,
                    "payload_too_large",
                    f"a photo is larger than {settings.photo_max_bytes} bytes",
                ) from exc
            if exc.reason == "too_many":
                raise ApiError(
                    422, "too_many_photos", f"at most {settings.photos_max_count} photos"
                ) from exc
            raise ApiError(422, "validation_error", exc.message) from exc
        except MultipartParseError as exc:
            raise ApiError(422, "validation_error", "malformed multipart body") from exc
        note = form.fields.get("note")
        if note is None or not note.strip() or len(note) > 4000:
            raise ApiError(422, "validation_error", "note is required (1-4000 characters)")
        if "photos" in form.fields:
            raise ApiError(422, "validation_error", "photos must be files")
        if any(f.field != "photos" for f in form.files):
            raise ApiError(422, "validation_error", "files are accepted only as `photos`")
        checked: list[tuple[bytes, str]] = []
        for upload in form.files:
            try:
                cleaned = await asyncio.to_thread(
                    sanitize, upload.data, max_pixels=settings.photo_max_pixels
                )
            except PhotoRejected as exc:
                if exc.reason == "bad_type":
                    raise ApiError(415, "unsupported_media_type", exc.message) from exc
                raise ApiError(422, "invalid_image", exc.message) from exc
            checked.append((cleaned.data, cleaned.content_type))
        return note, [await photos.put(data, kind, assignment_id) for data, kind in checked]

    @r.get("/photos/{photo_id}", tags=["catalogue"])
    async def photo(photo_id: str) -> Response:
        """A resolution photo (public, like the result it documents)."""
        found = await photos.get(photo_id)
        if found is None:
            raise ApiError(404, "not_found", "no such photo")
        data, content_type = found
        return Response(
            data,
            media_type=content_type,
            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
        )

    # ---------------------------------------------------------------- operator

    @r.post(
        "/assignments/{assignment_id}/assign", response_model=AssignmentDetail, tags=["operator"]
    )
    async def assign(assignment_id: str, p: Operator, body: TransferIn) -> AssignmentDetail:
        """Assign by hand to any agency (from triage, or to override the rules)."""
        return detail(await service.assign(p, assignment_id, body.agency_id, body.note), service)

    @r.post(
        "/assignments/{assignment_id}/duplicate",
        response_model=AssignmentDetail,
        tags=["operator"],
    )
    async def duplicate(assignment_id: str, p: Operator, body: DuplicateIn) -> AssignmentDetail:
        """Mark as duplicate of another report: resolving the original resolves this one."""
        return detail(await service.mark_duplicate(p, assignment_id, body.duplicate_of), service)

    @r.post(
        "/assignments/{assignment_id}/dismiss", response_model=AssignmentDetail, tags=["operator"]
    )
    async def dismiss(assignment_id: str, p: Operator, body: DismissIn) -> AssignmentDetail:
        """Reject as spam or not a public matter: `report.rejected`."""
        reason = body.reason + (f": {body.note}" if body.note else "")
        return detail(await service.dismiss(p, assignment_id, reason), service)

    # ---------------------------------------------------------------- admin

    @r.get("/admin/jurisdiction", tags=["admin"])
    async def get_jurisdiction(p: Admin) -> dict[str, Any]:
        """The whole current jurisdiction document (the format of the seed file)."""
        return (await service.jurisdiction()).model_dump(mode="json")

    @r.put("/admin/jurisdiction", tags=["admin"])
    async def put_jurisdiction(p: Admin, document: dict[str, Any]) -> dict[str, Any]:
        """Validate the whole document and apply it at once (no restart); the version is bumped
        and the catalogue republished. 422 lists every problem."""
        try:
            applied = await service.replace_jurisdiction(document, actor_of(p))
        except InvalidJurisdiction as exc:
            raise ApiError(
                422, "invalid_jurisdiction", "jurisdiction is invalid", details=exc.errors
            ) from exc
        return applied.model_dump(mode="json")

    @r.get("/admin/accounts", response_model=Items[AccountOut], tags=["admin"])
    async def list_accounts(p: Admin) -> Items[AccountOut]:
        """Every login (never its password hash); demo ones are refused in production."""
        docs = await service.store.accounts()
        return Items(
            items=[
                AccountOut(
                    username=d["_id"],
                    scopes=d["scopes"],
                    agency_id=d.get("agency_id"),
                    demo=bool(d.get("demo")),
                )
                for d in docs
            ]
        )

    @r.put("/admin/accounts/{username}", status_code=204, tags=["admin"])
    async def put_account(
        p: Admin,
        username: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")],
        body: AccountIn,
    ) -> Response:
        """Create a login or replace its password, scopes and agency."""
        try:
            await service.put_account(username, body.password, body.scopes, body.agency_id)
        except AccountRefused as exc:
            raise ApiError(422, "invalid_account", str(exc)) from exc
        return Response(status_code=204)

    @r.delete("/admin/accounts/{username}", status_code=204, tags=["admin"])
    async def delete_account(p: Admin, username: str) -> Response:
        """Remove a login; tokens already issued stay valid until they expire (JWT_TTL_S)."""
        if not await service.store.delete_account(username):
            raise ApiError(404, "not_found", f"no account {username!r}")
        return Response(status_code=204)

    return r
