"""A new report as the resident filed it, and the stored document made from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.events import GeoPoint, ReportCreatedV1, Status


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    email: str | None = None
    phone: str | None = None

    def sealable(self, language: str) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, "phone": self.phone, "language": language}


@dataclass(frozen=True)
class ReportDraft:
    category: str
    lat: float
    lon: float
    description: str
    address: str | None = None
    language: str = "vi"
    contact: Contact | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    media_url: str | None = None

    def fingerprint_body(self, photo_digests: list[str]) -> dict[str, Any]:
        """What makes two creates "the same request" for idempotency."""
        return {
            "category": self.category,
            "lat": self.lat,
            "lon": self.lon,
            "description": self.description,
            "address": self.address,
            "language": self.language,
            "contact": self.contact.sealable(self.language) if self.contact else None,
            "attributes": self.attributes,
            "media_url": self.media_url,
            "photos": photo_digests,
        }


def created_payload(
    report_id: str,
    draft: ReportDraft,
    *,
    created_at: datetime,
    channel: str,
    photo_urls: list[str],
    contact_sealed: str | None,
) -> ReportCreatedV1:
    return ReportCreatedV1(
        report_id=report_id,
        category=draft.category,
        location=GeoPoint(lat=draft.lat, lon=draft.lon),
        address=draft.address,
        description=draft.description,
        language=draft.language,
        photo_urls=photo_urls,
        attributes=draft.attributes,
        created_at=created_at,
        channel=channel,
        contact_sealed=contact_sealed,
    )


def new_document(
    report_id: str,
    draft: ReportDraft,
    *,
    category_name: dict[str, str],
    created_at: datetime,
    channel: str,
    token_hash: str,
    photos: list[dict[str, Any]],
    payload: ReportCreatedV1,
) -> dict[str, Any]:
    return {
        "_id": report_id,
        "category": draft.category,
        "category_name": category_name,
        "description": draft.description,
        "address": draft.address,
        "lat": draft.lat,
        "lon": draft.lon,
        "location": {"type": "Point", "coordinates": [draft.lon, draft.lat]},
        "attributes": draft.attributes,
        "language": draft.language,
        "channel": channel,
        "media_url": draft.media_url,
        "status": Status.RECEIVED.value,
        "status_at": created_at,
        "status_notes": None,
        "agency_id": None,
        "agency_name": None,
        "expected_at": None,
        "overdue": False,
        "created_at": created_at,
        "updated_at": created_at,
        "announced_at": created_at,
        "resolved_at": None,
        "photos": photos,
        "supporters": 0,
        "token_hash": token_hash,
        # The payload of report.created (contact sealed for notify), re-announced as is.
        "created_payload": payload.model_dump(mode="json"),
        "seq": {},
        "assign_seq": {},
        "timeline": [],
        "rating": None,
        "reopen_count": 0,
    }
