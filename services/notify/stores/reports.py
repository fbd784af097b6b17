"""Notify's view of each report (`reports`) and each report's status history (`status_changes`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict

from pymongo import ASCENDING, IndexModel, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.domain.model import Incoming, ReportView, StatusChange
from shared.events import Status
from shared.mongo import Document

REPORTS = "reports"
STATUS_CHANGES = "status_changes"

REPORT_INDEXES: dict[str, Sequence[IndexModel]] = {
    STATUS_CHANGES: [
        IndexModel([("report_id", ASCENDING), ("n", ASCENDING)], name="by_report_n", unique=True)
    ],
}


def _seq_key(source: str) -> str:
    return source.replace(".", "_").replace("$", "_")


def _view(report_id: str, doc: Document) -> ReportView:
    return ReportView(
        report_id=report_id,
        status=Status(doc["status"]) if doc.get("status") else None,
        agency_id=doc.get("agency_id"),
        category=doc.get("category"),
        language=doc.get("language", "vi"),
        contact_known=bool(doc.get("contact_known")),
        contact_sealed=doc.get("contact_sealed"),
        sequences={k: int(v) for k, v in (doc.get("sequences") or {}).items()},
        stream_n=int(doc.get("stream_n", 0)),
        awaiting_contact=[Incoming(**w) for w in doc.get("awaiting_contact") or []],
        stored=bool(doc),
    )


def _change(doc: Document) -> StatusChange:
    return StatusChange(
        n=int(doc["n"]),
        status=Status(doc["status"]),
        agency_id=doc.get("agency_id"),
        time=doc["time"],
        event_id=doc["event_id"],
    )


def _fields(view: ReportView) -> Document:
    return {
        "status": view.status.value if view.status else None,
        "agency_id": view.agency_id,
        "category": view.category,
        "language": view.language,
        "contact_known": view.contact_known,
        "contact_sealed": view.contact_sealed,  # stays sealed at rest
        "sequences": {_seq_key(k): v for k, v in view.sequences.items()},
        "stream_n": view.stream_n,
        "awaiting_contact": [asdict(w) for w in view.awaiting_contact],
    }


def _change_document(report_id: str, change: StatusChange) -> Document:
    return {
        "_id": f"{report_id}:{change.n}",
        "report_id": report_id,
        "n": change.n,
        "status": change.status.value,
        "agency_id": change.agency_id,
        "time": change.time,
        "event_id": change.event_id,
    }


class ReportStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.reports = db[REPORTS]
        self.changes = db[STATUS_CHANGES]

    async def load_many(
        self,
        report_ids: list[str],
        session: AsyncClientSession | None = None,
        unknown: Collection[str] = (),
    ) -> dict[str, ReportView]:
        """The views of these reports, read at once (blank ones for reports not heard of, and
        unread for those said `unknown`)."""
        ids = list(dict.fromkeys(report_ids))
        to_read = [i for i in ids if i not in unknown]
        docs: dict[str, Document] = {}
        if to_read:
            cursor = self.reports.find({"_id": {"$in": to_read}}, session=session)
            docs = {d["_id"]: d async for d in cursor}
        return {i: _view(i, docs.get(i) or {}) for i in ids}

    async def save_many(
        self, views: list[ReportView], session: AsyncClientSession | None = None
    ) -> None:
        """Writes the views: one insert of the new ones, one bulk write of the others (an
        insert costs the embedded database a fraction of an update)."""
        new = [{"_id": v.report_id, **_fields(v)} for v in views if not v.stored]
        if new:
            await self.reports.insert_many(new, session=session)
        stored = [ReplaceOne({"_id": v.report_id}, _fields(v)) for v in views if v.stored]
        if stored:
            await self.reports.bulk_write(stored, ordered=False, session=session)

    async def add_status_changes(
        self,
        changes: list[tuple[str, StatusChange]],
        session: AsyncClientSession | None = None,
    ) -> None:
        """Appends to the reports' streams in one insert (each (report, n) once)."""
        if changes:
            await self.changes.insert_many(
                [_change_document(report_id, c) for report_id, c in changes], session=session
            )

    async def status_changes(
        self, report_id: str, after: int, limit: int = 100
    ) -> list[StatusChange]:
        """The report's status changes numbered above `after`, in order."""
        cursor = (
            self.changes.find({"report_id": report_id, "n": {"$gt": after}})
            .sort("n", ASCENDING)
            .limit(limit)
        )
        return [_change(d) async for d in cursor]

    async def known(self, report_id: str) -> bool:
        """Whether any event of the report has reached notify."""
        return await self.reports.find_one({"_id": report_id}, {"_id": 1}) is not None

    async def stream_counters(self, report_ids: list[str]) -> dict[str, int]:
        """The number of the latest status change of each report (one query for many)."""
        cursor = self.reports.find({"_id": {"$in": report_ids}}, {"stream_n": 1})
        return {d["_id"]: int(d.get("stream_n", 0)) async for d in cursor}
