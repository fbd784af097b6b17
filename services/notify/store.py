"""Notify's MongoDB collections (its own database; no other service reads them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.domain.model import (
    AgencyContact,
    DeliveryStatus,
    ReportView,
    StatusChange,
)
from shared.events import Status, Topic
from shared.mongo import Document

REPORTS = "reports"
STATUS_CHANGES = "status_changes"
DELIVERIES = "deliveries"
CATALOG = "catalog"
PREFERENCES = "preferences"

INDEXES: dict[str, Sequence[IndexModel]] = {
    STATUS_CHANGES: [
        IndexModel([("report_id", ASCENDING), ("n", ASCENDING)], name="by_report_n", unique=True)
    ],
    DELIVERIES: [
        IndexModel(
            [
                ("dedupe_key", ASCENDING),
                ("recipient_kind", ASCENDING),
                ("recipient_id", ASCENDING),
                ("channel", ASCENDING),
            ],
            name="one_per_event_recipient_channel",
            unique=True,
        ),
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
        IndexModel([("report_id", ASCENDING), ("created_at", ASCENDING)], name="by_report"),
        IndexModel([("created_at", DESCENDING)], name="by_created"),
        IndexModel([("no_contact", ASCENDING), ("created_at", ASCENDING)], name="unreachable"),
    ],
}

RETRYABLE = [DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value]


@dataclass
class Catalog:
    version: int = 0
    agencies: dict[str, AgencyContact] = field(default_factory=dict)
    categories: dict[str, dict[str, str]] = field(default_factory=dict)


def _seq_key(source: str) -> str:
    return source.replace(".", "_").replace("$", "_")


class NotifyStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    # ------------------------------------------------------------ report views

    async def load_view(
        self, report_id: str, session: AsyncClientSession | None = None
    ) -> tuple[ReportView, Document]:
        doc = await self.db[REPORTS].find_one({"_id": report_id}, session=session) or {}
        view = ReportView(
            report_id=report_id,
            status=Status(doc["status"]) if doc.get("status") else None,
            agency_id=doc.get("agency_id"),
            category=doc.get("category"),
            language=doc.get("language", "vi"),
            contact_known=bool(doc.get("contact_known")),
            sequences={k: int(v) for k, v in (doc.get("sequences") or {}).items()},
            stream_n=int(doc.get("stream_n", 0)),
        )
        return view, doc

    async def save_view(
        self,
        view: ReportView,
        session: AsyncClientSession,
        *,
        extra: Document | None = None,
        push_awaiting: Document | None = None,
        clear_awaiting: bool = False,
    ) -> None:
        update: Document = {
            "$set": {
                "status": view.status.value if view.status else None,
                "agency_id": view.agency_id,
                "category": view.category,
                "language": view.language,
                "contact_known": view.contact_known,
                "sequences": {_seq_key(k): v for k, v in view.sequences.items()},
                "stream_n": view.stream_n,
                **(extra or {}),
            }
        }
        if push_awaiting is not None:
            update["$push"] = {"awaiting_contact": push_awaiting}
        if clear_awaiting:
            update["$set"]["awaiting_contact"] = []
        await self.db[REPORTS].update_one(
            {"_id": view.report_id}, update, upsert=True, session=session
        )

    async def add_status_change(
        self, report_id: str, change: StatusChange, session: AsyncClientSession
    ) -> None:
        await self.db[STATUS_CHANGES].insert_one(
            {
                "_id": f"{report_id}:{change.n}",
                "report_id": report_id,
                "n": change.n,
                "status": change.status.value,
                "agency_id": change.agency_id,
                "time": change.time,
                "event_id": change.event_id,
            },
            session=session,
        )

    async def status_changes(self, report_id: str, after: int, limit: int = 100) -> list[Document]:
        cursor = (
            self.db[STATUS_CHANGES]
            .find({"report_id": report_id, "n": {"$gt": after}})
            .sort("n", ASCENDING)
            .limit(limit)
        )
        return [d async for d in cursor]

    async def report_known(self, report_id: str) -> bool:
        """Whether any event of the report has reached notify."""
        return await self.db[REPORTS].find_one({"_id": report_id}, {"_id": 1}) is not None

    async def stream_counters(self, report_ids: list[str]) -> dict[str, int]:
        """The number of the latest status change of each report (one query for many)."""
        cursor = self.db[REPORTS].find({"_id": {"$in": report_ids}}, {"stream_n": 1})
        return {d["_id"]: int(d.get("stream_n", 0)) async for d in cursor}

    # ------------------------------------------------------------ catalogue

    async def catalog(self, session: AsyncClientSession | None = None) -> Catalog:
        doc = await self.db[CATALOG].find_one({"_id": "catalog"}, session=session)
        if not doc:
            return Catalog()
        agencies = {
            a["id"]: AgencyContact(a["id"], a.get("name", {}), a.get("contacts", {}))
            for a in doc.get("agencies", [])
        }
        return Catalog(int(doc["version"]), agencies, doc.get("categories", {}))

    async def save_catalog(self, doc: Document, session: AsyncClientSession) -> bool:
        """Keeps the newest version only (the compacted topic may replay older ones)."""
        res = await self.db[CATALOG].update_one(
            {"_id": "catalog", "version": {"$lt": doc["version"]}},
            {"$set": doc},
            session=session,
        )
        if res.matched_count:
            return True
        existing = await self.db[CATALOG].find_one({"_id": "catalog"}, session=session)
        if existing is None:
            await self.db[CATALOG].insert_one({"_id": "catalog", **doc}, session=session)
            return True
        return False

    # ------------------------------------------------------------ deliveries

    async def record_delivery(self, doc: Document, session: AsyncClientSession) -> bool:
        """Inserts the delivery unless one exists for the same news, recipient and channel."""
        res = await self.db[DELIVERIES].update_one(
            {"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True, session=session
        )
        return res.upserted_id is not None

    async def unreachable_assignments(
        self, since: datetime, session: AsyncClientSession, limit: int = 5000
    ) -> list[Document]:
        """Log entries of assignments since `since` whose agency had no contact to reach."""
        cursor = (
            self.db[DELIVERIES]
            .find(
                {
                    "no_contact": True,
                    "created_at": {"$gte": since},
                    "event_type": Topic.REPORT_ASSIGNED.value,
                },
                session=session,
            )
            .sort("created_at", ASCENDING)
            .limit(limit)
        )
        return [d async for d in cursor]

    async def latest_assignment_entry(
        self, report_id: str, session: AsyncClientSession
    ) -> Document | None:
        """The log entry of the report's latest assignment as told to its agency (or IOC)."""
        return await self.db[DELIVERIES].find_one(
            {
                "report_id": report_id,
                "event_type": Topic.REPORT_ASSIGNED.value,
                "channel": "log",
                "recipient_kind": {"$ne": "resident"},
            },
            sort=[("created_at", DESCENDING), ("_id", DESCENDING)],
            session=session,
        )

    async def mark_reachable(self, ids: list[str], session: AsyncClientSession) -> None:
        if ids:
            await self.db[DELIVERIES].update_many(
                {"_id": {"$in": ids}}, {"$unset": {"no_contact": ""}}, session=session
            )

    async def list_deliveries(self, filters: Document, limit: int, offset: int) -> list[Document]:
        cursor = (
            self.db[DELIVERIES]
            .find(filters)
            .sort([("created_at", ASCENDING), ("_id", ASCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return [d async for d in cursor]

    async def claim_due(self, owner: str, now: datetime, lease: timedelta) -> Document | None:
        """Takes one due delivery for `owner` until the lease ends (safe with many replicas)."""
        return await self.db[DELIVERIES].find_one_and_update(
            {
                "status": {"$in": RETRYABLE},
                "next_attempt_at": {"$lte": now},
                "$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}],
            },
            {"$set": {"lease_until": now + lease, "owner": owner}},
            sort=[("next_attempt_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    async def finish(self, delivery_id: str, owner: str, changes: Document) -> None:
        await self.db[DELIVERIES].update_one(
            {"_id": delivery_id, "owner": owner},
            {"$set": {**changes, "lease_until": None}},
        )

    async def queue_depths(self) -> dict[str, int]:
        """Deliveries still to send, by state (`pending`, `failed`); both use the `due` index."""
        return {
            state: await self.db[DELIVERIES].count_documents({"status": state})
            for state in RETRYABLE
        }

    # ------------------------------------------------------------ preferences

    async def unsubscribed(self, address_key: str) -> bool:
        doc = await self.db[PREFERENCES].find_one({"_id": address_key})
        return bool(doc and doc.get("unsubscribed"))

    async def unsubscribe(self, address_key: str, channel: str, now: datetime) -> None:
        await self.db[PREFERENCES].update_one(
            {"_id": address_key},
            {"$set": {"channel": channel, "unsubscribed": True, "updated_at": now}},
            upsert=True,
        )

    async def any_unsubscribed(self, keys: list[str], session: AsyncClientSession) -> set[str]:
        cursor = self.db[PREFERENCES].find(
            {"_id": {"$in": keys}, "unsubscribed": True}, {"_id": 1}, session=session
        )
        return {d["_id"] async for d in cursor}
