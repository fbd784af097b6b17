"""Builds a report's events (as analytics records them, and as CloudEvents for the broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from services.analytics.domain.facts import Recorded
from shared.catalog import AgencyRefV1, CatalogV1, CategoryV1
from shared.events import (
    CloudEvent,
    GeoPoint,
    ReportAcceptedV1,
    ReportAssignedV1,
    ReportClosedV1,
    ReportCreatedV1,
    ReportEscalatedV1,
    ReportRatedV1,
    ReportRecategorizedV1,
    ReportReopenedV1,
    ReportResolvedV1,
    SuggestionV1,
    Topic,
    TriageV1,
)

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 08:00 in Huế, a Monday
ChosenBy = Literal["resident", "model"]
INTAKE, ROUTING = "/fieldreports/intake", "/fieldreports/routing"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Story:
    """One report's events, with per-source sequences as their producers would number them."""

    def __init__(
        self, report_id: str, category: str = "pothole", lat: float = 16.46, lon: float = 107.59
    ) -> None:
        self.report_id = report_id
        self.category = category
        self.location = GeoPoint(lat=lat, lon=lon)
        self.events: list[CloudEvent] = []
        self._seq: dict[str, int] = {}

    def _add(self, topic: Topic, source: str, payload: BaseModel, when: datetime) -> Story:
        self._seq[source] = self._seq.get(source, 0) + 1
        self.events.append(
            CloudEvent(
                source=source,
                type=str(topic),
                subject=self.report_id,
                sequence=self._seq[source],
                time=when,
                data=payload.model_dump(mode="json"),
            )
        )
        return self

    def created(
        self,
        minute: float = 0,
        created_minute: float | None = None,
        chosen_by: ChosenBy | None = None,
    ) -> Story:
        triage = None
        if chosen_by is not None:
            best = SuggestionV1(category=self.category, confidence=0.9)
            triage = TriageV1(model_version="m1", suggestions=[best], chosen_by=chosen_by)
        payload = ReportCreatedV1(
            triage=triage,
            report_id=self.report_id,
            category=self.category,
            location=self.location,
            description="hole",
            created_at=at(0 if created_minute is None else created_minute),
            contact_sealed="sealed-secret",
        )
        return self._add(Topic.REPORT_CREATED, INTAKE, payload, at(minute))

    def assigned(
        self,
        minute: float,
        agency: str = "dot",
        due_minute: float = 60,
        attempt: int = 1,
        area: str | None = "hue",
    ) -> Story:
        payload = ReportAssignedV1(
            report_id=self.report_id,
            assignment_id=f"{self.report_id}-a{attempt}",
            agency_id=agency,
            agency_name=agency.upper(),
            category=self.category,
            due_at=at(due_minute),
            attempt=attempt,
            area_id=area,
            assigned_at=at(minute),
        )
        return self._add(Topic.REPORT_ASSIGNED, ROUTING, payload, at(minute))

    def started(self, minute: float, agency: str = "dot", attempt: int = 1) -> Story:
        payload = ReportAcceptedV1(
            report_id=self.report_id,
            assignment_id=f"{self.report_id}-a{attempt}",
            agency_id=agency,
            at=at(minute),
        )
        return self._add(Topic.REPORT_IN_PROGRESS, ROUTING, payload, at(minute))

    def resolved(
        self, minute: float, agency: str = "dot", attempt: int = 1, on_time: bool | None = None
    ) -> Story:
        payload = ReportResolvedV1(
            report_id=self.report_id,
            assignment_id=f"{self.report_id}-a{attempt}",
            agency_id=agency,
            note="fixed",
            resolved_at=at(minute),
            on_time=on_time,
        )
        return self._add(Topic.REPORT_RESOLVED, ROUTING, payload, at(minute))

    def escalated(self, minute: float, agency: str = "dot", attempt: int = 1) -> Story:
        payload = ReportEscalatedV1(
            report_id=self.report_id,
            assignment_id=f"{self.report_id}-a{attempt}",
            agency_id=agency,
            due_at=at(minute),
            at=at(minute),
        )
        return self._add(Topic.REPORT_ESCALATED, ROUTING, payload, at(minute))

    def rated(self, minute: float, rating: int) -> Story:
        payload = ReportRatedV1(report_id=self.report_id, rating=rating, at=at(minute))
        return self._add(Topic.REPORT_RATED, INTAKE, payload, at(minute))

    def closed(self, minute: float) -> Story:
        payload = ReportClosedV1(report_id=self.report_id, at=at(minute))
        return self._add(Topic.REPORT_CLOSED, INTAKE, payload, at(minute))

    def recategorized(self, minute: float, category: str, previous: str | None = None) -> Story:
        """An operator's correction (routing), with the re-assignment that follows it."""
        payload = ReportRecategorizedV1(
            report_id=self.report_id,
            previous_category=previous or self.category,
            category=category,
            by="ioc",
            at=at(minute),
        )
        return self._add(Topic.REPORT_RECATEGORIZED, ROUTING, payload, at(minute))

    def reopened(self, minute: float) -> Story:
        payload = ReportReopenedV1(report_id=self.report_id, reason="not fixed", at=at(minute))
        return self._add(Topic.REPORT_REOPENED, INTAKE, payload, at(minute))

    def records(self) -> list[Recorded]:
        return [recorded(e) for e in self.events]


def recorded(e: CloudEvent) -> Recorded:
    return Recorded(e.id, e.type, e.source, e.sequence, e.time, dict(e.data))


def full_story(report_id: str = "r1") -> Story:
    """Created, assigned, started, resolved on time, rated 4 and closed."""
    return Story(report_id).created().assigned(5).started(10).resolved(40).rated(50, 4).closed(50.5)


def payload_of(story: Story, topic: Topic) -> dict[str, Any]:
    return next(e.data for e in story.events if e.type == topic)


EXPECTED_STATUS = {"closed": 1, "resolved": 2, "assigned": 1, "received": 1}


def catalog_event(version: int, dot_en: str) -> CloudEvent:
    catalog = CatalogV1(
        version=version,
        published_at=datetime.now(UTC),
        categories=[
            CategoryV1(
                code="pothole",
                name={"vi": "Ổ gà", "en": "Pothole"},
                group="roads",
                deadline_hours=48,
            ),
            CategoryV1(
                code="flood",
                name={"vi": "Ngập", "en": "Flooding"},
                group="water",
                deadline_hours=24,
            ),
        ],
        agencies=[
            AgencyRefV1(id="dot", name={"vi": "Sở Giao thông", "en": dot_en}, kind="department"),
            AgencyRefV1(
                id="water", name={"vi": "Công ty Cấp nước", "en": "Water Co."}, kind="utility"
            ),
        ],
    )
    return CloudEvent(
        source="/fieldreports/routing",
        type=str(Topic.JURISDICTION_CATALOG),
        subject="catalog",
        sequence=version,
        data=catalog.model_dump(mode="json"),
    )


def stories() -> list[Story]:
    return [
        full_story("r1"),  # dot, on time, rated 4, closed
        Story("r2").created().assigned(5, due_minute=30).resolved(90).rated(100, 2),  # dot, late
        Story("r3", "flood", lat=16.52, lon=107.62).created().assigned(10, "water"),  # overdue
        Story("r4").created(),  # not routed yet
        Story("r5", "flood", lat=16.52, lon=107.62)
        .created(created_minute=1440)
        .assigned(1450, "water", due_minute=1500)
        .resolved(1460, "water"),
    ]
