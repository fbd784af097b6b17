"""HTTP schemas of the resident API: create / action inputs and public views, kept apart so a
public response model cannot leak a private field (contact, token hash)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.intake.domain.catalog import localized
from services.intake.domain.report import Contact, ReportDraft
from shared.mongo import Document

DESCRIPTION_MAX = 4000
ADDRESS_MAX = 300
EMAIL_RE = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$"
PHONE_RE = r"^\+?[0-9 ().-]{5,32}$"


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_RE)
    phone: str | None = Field(default=None, max_length=32, pattern=PHONE_RE)


class ReportCreate(BaseModel):
    """What a resident posts (JSON body, or the `report` part / form fields of a multipart)."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1, max_length=100, description="Category code")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    address: str | None = Field(default=None, max_length=ADDRESS_MAX)
    contact: ContactIn | None = None
    language: Literal["vi", "en"] = "vi"
    attributes: dict[str, Any] = Field(default_factory=dict, max_length=50)

    @field_validator("description")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    def draft(self) -> ReportDraft:
        contact = None
        if self.contact and (self.contact.name or self.contact.email or self.contact.phone):
            contact = Contact(self.contact.name, self.contact.email, self.contact.phone)
        return ReportDraft(
            category=self.category,
            lat=self.lat,
            lon=self.lon,
            description=self.description,
            address=self.address,
            language=self.language,
            contact=contact,
            attributes=self.attributes,
        )


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class PhotoPublic(BaseModel):
    id: str
    url: str
    thumb_url: str
    content_type: str


class ReportPublic(BaseModel):
    """The public view of a report: never the reporter's contact or identity."""

    id: str
    status: str
    category: str
    category_name: str
    description: str
    address: str | None
    lat: float
    lon: float
    agency_id: str | None
    agency_name: str | None
    status_notes: str | None
    created_at: datetime
    updated_at: datetime
    expected_at: datetime | None = Field(description="Due time of the current assignment")
    overdue: bool
    photos: list[PhotoPublic]
    supporters: int

    @classmethod
    def of(cls, doc: Document, lang: str) -> ReportPublic:
        return cls(
            id=doc["_id"],
            status=doc["status"],
            category=doc["category"],
            category_name=localized(doc.get("category_name") or {}, lang) or doc["category"],
            description=doc["description"],
            address=doc.get("address"),
            lat=doc["lat"],
            lon=doc["lon"],
            agency_id=doc.get("agency_id"),
            agency_name=doc.get("agency_name"),
            status_notes=doc.get("status_notes"),
            created_at=doc["created_at"],
            updated_at=doc["updated_at"],
            expected_at=doc.get("expected_at"),
            overdue=bool(doc.get("overdue")),
            photos=[
                PhotoPublic(
                    id=p["id"],
                    url=f"/api/v1/photos/{p['id']}",
                    thumb_url=f"/api/v1/photos/{p['id']}/thumb",
                    content_type=p["content_type"],
                )
                for p in doc.get("photos", [])
            ],
            supporters=int(doc.get("supporters", 0)),
        )


class NearbyReport(BaseModel):
    id: str
    status: str
    category: str
    description: str
    lat: float
    lon: float
    distance_m: float
    supporters: int
    created_at: datetime

    @classmethod
    def of(cls, doc: Document) -> NearbyReport:
        return cls(
            id=doc["_id"],
            status=doc["status"],
            category=doc["category"],
            description=doc["description"][:200],
            lat=doc["lat"],
            lon=doc["lon"],
            distance_m=doc.get("distance_m", 0.0),
            supporters=int(doc.get("supporters", 0)),
            created_at=doc["created_at"],
        )


class ReportCreated(ReportPublic):
    tracking_token: str = Field(
        description="Secret; shown once. Needed for timeline, rating, reopen"
    )
    possible_duplicates: list[NearbyReport]


class TimelineEntry(BaseModel):
    type: str
    status: str | None
    at: datetime
    agency_name: str | None
    note: str | None


class Timeline(BaseModel):
    report: ReportPublic
    rating: int | None
    entries: list[TimelineEntry]

    @classmethod
    def of(cls, doc: Document, lang: str) -> Timeline:
        created = TimelineEntry(
            type="report.created",
            status="received",
            at=doc["created_at"],
            agency_name=None,
            note=None,
        )
        entries = [created] + [
            TimelineEntry(
                type=e["type"],
                status=e.get("status"),
                at=e["at"],
                agency_name=e.get("agency_name"),
                note=e.get("note"),
            )
            for e in doc.get("timeline", [])
        ]
        entries.sort(key=lambda e: e.at)
        rating = doc.get("rating") or {}
        return cls(report=ReportPublic.of(doc, lang), rating=rating.get("rating"), entries=entries)


class Page(BaseModel):
    items: list[ReportPublic]
    next_cursor: str | None


class NearbyList(BaseModel):
    items: list[NearbyReport]


class CategoryAttributePublic(BaseModel):
    code: str
    datatype: str
    required: bool
    description: str
    order: int
    values: list[dict[str, str]]


class CategoryPublic(BaseModel):
    code: str
    name: str
    description: str
    group: str
    deadline_hours: int
    attributes: list[CategoryAttributePublic]


class CategoryList(BaseModel):
    version: int
    language: str
    items: list[CategoryPublic]
