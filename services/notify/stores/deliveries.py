"""Deliveries (`deliveries`): one document per news, recipient and channel; the worker's queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.domain.model import (
    RETRYABLE,
    Channel,
    Delivery,
    DeliveryFilter,
    DeliveryStatus,
    News,
    Outcome,
    RecipientKind,
)
from shared.events import Topic
from shared.mongo import Document

DELIVERIES = "deliveries"

DELIVERY_INDEXES: dict[str, Sequence[IndexModel]] = {
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

_RETRYABLE = [s.value for s in RETRYABLE]


def to_document(d: Delivery) -> Document:
    doc: Document = {
        "_id": d.id,
        "event_id": d.news.event_id,
        "event_type": d.news.event_type,
        "dedupe_key": d.news.dedupe_key,
        "report_id": d.news.report_id,
        "template": d.news.template,
        "context": d.news.context,
        "recipient_kind": d.recipient_kind.value,
        "recipient_id": d.recipient_id,
        "recipient": d.recipient,
        "channel": d.channel.value,
        "address_sealed": d.address_sealed,
        "address_key": d.address_key,
        "language": d.language,
        "status": d.status.value,
        "last_error": d.last_error,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "lease_until": None,
        "owner": None,
        "created_at": d.created_at,
        "sent_at": d.sent_at,
    }
    if d.no_contact:
        doc["no_contact"] = True
    return doc


def from_document(doc: Document) -> Delivery:
    news = News(
        event_id=doc["event_id"],
        event_type=doc["event_type"],
        dedupe_key=doc["dedupe_key"],
        report_id=doc["report_id"],
        template=doc["template"],
        context=doc.get("context") or {},
    )
    return Delivery(
        id=doc["_id"],
        news=news,
        recipient_kind=RecipientKind(doc["recipient_kind"]),
        recipient_id=doc["recipient_id"],
        recipient=doc["recipient"],
        channel=Channel(doc["channel"]),
        address_sealed=doc.get("address_sealed"),
        address_key=doc.get("address_key"),
        language=doc["language"],
        status=DeliveryStatus(doc["status"]),
        last_error=doc.get("last_error"),
        attempts=int(doc.get("attempts", 0)),
        next_attempt_at=doc.get("next_attempt_at"),
        created_at=doc["created_at"],
        sent_at=doc.get("sent_at"),
        no_contact=bool(doc.get("no_contact")),
    )


def _filter(f: DeliveryFilter) -> Document:
    pairs = (
        ("report_id", f.report_id),
        ("channel", f.channel),
        ("status", f.status),
        ("recipient_kind", f.recipient_kind),
    )
    return {name: str(value) for name, value in pairs if value is not None}


class DeliveryStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[DELIVERIES]

    async def record(self, delivery: Delivery, session: AsyncClientSession | None = None) -> bool:
        """Inserts the delivery unless one exists for the same news, recipient and channel
        (same id); True if it was new."""
        doc = to_document(delivery)
        res = await self.col.update_one(
            {"_id": delivery.id}, {"$setOnInsert": doc}, upsert=True, session=session
        )
        return res.upserted_id is not None

    async def unreachable_assignments(
        self, since: datetime, session: AsyncClientSession | None = None, limit: int = 5000
    ) -> list[Delivery]:
        """Log entries of assignments since `since` whose agency had no contact to reach."""
        query = {
            "no_contact": True,
            "created_at": {"$gte": since},
            "event_type": Topic.REPORT_ASSIGNED.value,
        }
        cursor = self.col.find(query, session=session).sort("created_at", ASCENDING).limit(limit)
        return [from_document(d) async for d in cursor]

    async def latest_assignment_entry(
        self, report_id: str, session: AsyncClientSession | None = None
    ) -> Delivery | None:
        """The log entry of the report's latest assignment as told to its agency (or IOC)."""
        doc = await self.col.find_one(
            {
                "report_id": report_id,
                "event_type": Topic.REPORT_ASSIGNED.value,
                "channel": Channel.LOG.value,
                "recipient_kind": {"$ne": RecipientKind.RESIDENT.value},
            },
            sort=[("created_at", DESCENDING), ("_id", DESCENDING)],
            session=session,
        )
        return from_document(doc) if doc else None

    async def mark_reachable(
        self, ids: list[str], session: AsyncClientSession | None = None
    ) -> None:
        if ids:
            await self.col.update_many(
                {"_id": {"$in": ids}}, {"$unset": {"no_contact": ""}}, session=session
            )

    async def page(self, filters: DeliveryFilter, limit: int, offset: int) -> list[Delivery]:
        """The delivery log, oldest first."""
        cursor = (
            self.col.find(_filter(filters))
            .sort([("created_at", ASCENDING), ("_id", ASCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return [from_document(d) async for d in cursor]

    async def claim_due(self, owner: str, now: datetime, lease: timedelta) -> Delivery | None:
        """Takes one due delivery for `owner` until the lease ends (safe with many replicas)."""
        doc = await self.col.find_one_and_update(
            {
                "status": {"$in": _RETRYABLE},
                "next_attempt_at": {"$lte": now},
                "$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}],
            },
            {"$set": {"lease_until": now + lease, "owner": owner}},
            sort=[("next_attempt_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return from_document(doc) if doc else None

    async def finish(self, delivery_id: str, owner: str, outcome: Outcome) -> None:
        """Records an attempt's outcome and gives the lease back (if `owner` still holds it)."""
        changes: dict[str, Any] = {
            "status": outcome.status.value,
            "attempts": outcome.attempts,
            "last_error": outcome.last_error,
            "lease_until": None,
        }
        if outcome.next_attempt_at is not None:
            changes["next_attempt_at"] = outcome.next_attempt_at
        if outcome.sent_at is not None:
            changes["sent_at"] = outcome.sent_at
        await self.col.update_one({"_id": delivery_id, "owner": owner}, {"$set": changes})

    async def queue_depths(self) -> dict[str, int]:
        """Deliveries still to send, by state (`pending`, `failed`); both use the `due` index."""
        return {state: await self.col.count_documents({"status": state}) for state in _RETRYABLE}
