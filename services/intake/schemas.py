"""HTTP schemas of the resident API: create / action inputs and public views, kept apart so a
public response model cannot leak a private field (contact, token hash)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.intake.domain.catalog import Catalog, localized
from services.intake.domain.duetime import due_text
from services.intake.domain.report import (
    ADDRESS_MAX,
    DESCRIPTION_MAX,
    Contact,
    Nearby,
    Report,
    ReportDraft,
)
from services.intake.domain.text import refuse_controls_in
from services.intake.usecases.create import Created
from shared.catalog import CategoryV1

EMAIL_RE = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$"
PHONE_RE = r"^\+?[0-9 ().-]{5,32}$"


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_RE)
    phone: str | None = Field(default=None, max_length=32, pattern=PHONE_RE)

    _clean = field_validator("name", "email", "phone")(refuse_controls_in)


class ReportCreate(BaseModel):
    """What a resident posts (JSON body, or the `report` part / form fields of a multipart)."""

    model_config = ConfigDict(extra="forbid")
    category: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Category code; without it the report is accepted only if the category "
        "suggestion is confident (else 422 `category_required` with the suggestions)",
    )
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    address: str | None = Field(default=None, max_length=ADDRESS_MAX)
    contact: ContactIn | None = None
    language: Literal["vi", "en"] = "vi"
    attributes: dict[str, Any] = Field(default_factory=dict, max_length=50)

    _clean = field_validator("category", "description", "address", "attributes")(refuse_controls_in)

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

    _clean = field_validator("comment")(refuse_controls_in)


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)

    _clean = field_validator("reason")(refuse_controls_in)


class ResidentTokenOut(BaseModel):
    resident_token: str = Field(
        description="Anonymous; send as X-Resident-Token to +1 (one support per resident)"
    )
    expires_at: datetime


class PhotoPublic(BaseModel):
    id: str
    url: str
    thumb_url: str
    content_type: str

    @classmethod
    def of(cls, id: str, content_type: str) -> PhotoPublic:
        url = f"/api/v1/photos/{id}"
        return cls(id=id, url=url, thumb_url=f"{url}/thumb", content_type=content_type)


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
    expected_at_text: str | None = Field(description="expected_at on the city's clock, in words")
    overdue: bool
    photos: list[PhotoPublic]
    supporters: int

    @classmethod
    def of(cls, report: Report, lang: str, zone: tzinfo) -> ReportPublic:
        return cls(
            id=report.id,
            status=report.status.value,
            category=report.category,
            category_name=localized(report.category_name, lang) or report.category,
            description=report.description,
            address=report.address,
            lat=report.lat,
            lon=report.lon,
            agency_id=report.agency_id,
            agency_name=report.agency_name,
            status_notes=report.status_notes,
            created_at=report.created_at,
            updated_at=report.updated_at,
            expected_at=report.expected_at,
            expected_at_text=due_text(report.expected_at, zone, lang),
            overdue=report.overdue,
            photos=[PhotoPublic.of(p.id, p.content_type) for p in report.photos],
            supporters=report.supporters,
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
    def of(cls, nearby: Nearby) -> NearbyReport:
        report = nearby.report
        return cls(
            id=report.id,
            status=report.status.value,
            category=report.category,
            description=report.description[:200],
            lat=report.lat,
            lon=report.lon,
            distance_m=nearby.distance_m,
            supporters=report.supporters,
            created_at=report.created_at,
        )


class ReportCreated(ReportPublic):
    tracking_token: str = Field(
        description="Secret; shown once. Needed for timeline, rating, reopen"
    )
    possible_duplicates: list[NearbyReport]

    @classmethod
    def of_created(cls, created: Created, lang: str, zone: tzinfo) -> ReportCreated:
        return cls(
            **ReportPublic.of(created.report, lang, zone).model_dump(),
            tracking_token=created.tracking_token,
            possible_duplicates=[NearbyReport.of(d) for d in created.possible_duplicates],
        )


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
    def of(cls, report: Report, lang: str, zone: tzinfo) -> Timeline:
        created = TimelineEntry(
            type="report.created",
            status="received",
            at=report.created_at,
            agency_name=None,
            note=None,
        )
        entries = [created] + [
            TimelineEntry(
                type=e.type, status=e.status, at=e.at, agency_name=e.agency_name, note=e.note
            )
            for e in report.timeline
        ]
        entries.sort(key=lambda e: e.at)
        rating = report.rating.rating if report.rating else None
        return cls(report=ReportPublic.of(report, lang, zone), rating=rating, entries=entries)


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

    @classmethod
    def of(cls, catalog: Catalog, lang: str) -> CategoryList:
        return cls(
            version=catalog.version,
            language=lang,
            items=[_category(c, lang) for c in catalog.categories()],
        )


def _category(c: CategoryV1, lang: str) -> CategoryPublic:
    return CategoryPublic(
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
