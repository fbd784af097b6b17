"""Routing's HTTP schemas: what comes in (create / update bodies) and what goes out (public)."""

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from services.routing.domain.accounts import Account
from services.routing.domain.assignment import Assignment
from services.routing.domain.closures import Closure
from services.routing.usecases.photos import ResolutionPhotos
from services.routing.usecases.workflow import Clock
from shared.events import GeoPoint

T = TypeVar("T")


class Items(BaseModel, Generic[T]):
    items: list[T]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds")
    scope: str


class AgencyOut(BaseModel):
    id: str
    name: dict[str, str]
    kind: str


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
    suggestions: list[dict[str, Any]] = Field(
        description="The category model's suggestions at filing: {category, confidence}"
    )
    disputed: bool = Field(description="The model disputed the resident's category")


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


class RecategorizeIn(BaseModel):
    category: str = Field(min_length=1, max_length=100, description="An active category code")
    reason: str | None = Field(default=None, max_length=1000)


class ClosureIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200, description="e.g. typhoon")
    agency_ids: list[str] = Field(
        default_factory=list, max_length=200, description="Empty: every agency"
    )


class ClosureOut(BaseModel):
    date: date
    reason: str
    agency_ids: list[str] = Field(description="Empty: every agency")

    @classmethod
    def of(cls, c: Closure) -> "ClosureOut":
        return cls(date=c.day, reason=c.reason, agency_ids=list(c.agencies))


class DismissIn(BaseModel):
    reason: Literal["spam", "not_public_matter"]
    note: str | None = Field(default=None, max_length=1000)

    def full_reason(self) -> str:
        return self.reason + (f": {self.note}" if self.note else "")


class AccountIn(BaseModel):
    password: str = Field(min_length=1, max_length=256, description="At least 12 characters")
    scopes: list[str] = Field(min_length=1, description="staff (with agency_id), operator, admin")
    agency_id: str | None = Field(default=None, description="Required for staff accounts")


class AccountOut(BaseModel):
    username: str
    scopes: list[str]
    agency_id: str | None
    demo: bool

    @classmethod
    def of(cls, account: Account) -> "AccountOut":
        return cls(
            username=account.username,
            scopes=account.scopes,
            agency_id=account.agency_id,
            demo=account.demo,
        )


class Presenter:
    """Assignments as responses: photo URLs and the `overdue` flag as of now."""

    def __init__(self, photos: ResolutionPhotos, clock: Clock) -> None:
        self.photos = photos
        self.clock = clock

    def _fields(self, a: Assignment) -> dict[str, Any]:
        return {
            "id": a.id,
            "report_id": a.report_id,
            "agency_id": a.agency_id,
            "status": a.status.value,
            "category": a.category,
            "location": {"lat": a.lat, "lon": a.lon},
            "due_at": a.due_at,
            "overdue": a.overdue(self.clock()),
            "attempt": a.attempt,
            "reason": a.reason,
            "rule_id": a.rule_id,
            "area_id": a.area_id,
            "duplicate_of": a.duplicate_of,
            "escalations": a.escalations,
            "note": a.note,
            "photo_urls": [self.photos.url(i) for i in a.photo_ids],
            "created_at": a.created_at,
            "assigned_at": a.assigned_at,
            "suggestions": a.suggestions,
            "disputed": a.disputed,
            "rejected_by": a.rejected_by,
            "history": a.history,
        }

    def summary(self, a: Assignment) -> AssignmentOut:
        return AssignmentOut.model_validate(self._fields(a))

    def detail(self, a: Assignment) -> AssignmentDetail:
        return AssignmentDetail.model_validate(self._fields(a))

    def queue(self, items: list[Assignment]) -> Items[AssignmentOut]:
        return Items(items=[self.summary(a) for a in items])
