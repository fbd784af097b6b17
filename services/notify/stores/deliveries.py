"""Deliveries (`deliveries`): one document per news, recipient and channel; the worker's queue
(`stores/queue.py`) is the same collection.

`claimable_at` is always set: when a queued delivery (pending or failed) may be taken next (its
next attempt, or the end of the lease a worker holds on it), and `FINAL` for the others. The
worker's claim is then one range on one index, with no `$or` (which the embedded database
answers by scanning the whole collection)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.domain.model import (
    RETRYABLE,
    Channel,
    Delivery,
    DeliveryFilter,
    DeliveryStatus,
    Lease,
    News,
    RecipientKind,
)
from shared.events import Topic
from shared.mongo import Document

DELIVERIES = "deliveries"
# `claimable_at` of a delivery that is done (sent, dead, skipped): past any claim's look-ahead.
FINAL = datetime(9999, 12, 31, tzinfo=UTC)

DELIVERY_INDEXES: dict[str, Sequence[IndexModel]] = {
    DELIVERIES: [
        # One per (news, recipient, channel): the `_id` is a digest of the four
        # (`domain/planning.delivery_id`), so the primary key holds it.
        # The queue gauges, and the delivery log filtered by state.
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
        IndexModel([("report_id", ASCENDING), ("created_at", ASCENDING)], name="by_report"),
        IndexModel([("created_at", DESCENDING)], name="by_created"),
        # Staff log entries nobody could be told (a few): only those are in it.
        IndexModel(
            [("no_contact", ASCENDING), ("created_at", ASCENDING)],
            name="unreachable_only",
            partialFilterExpression={"no_contact": True},
        ),
        # The worker's claim and its look-ahead: one range, queued deliveries only.
        IndexModel([("claimable_at", ASCENDING)], name="claimable"),
    ],
}
# Created by earlier versions, dropped at startup (each cost every write of a delivery): a unique
# index on the four fields the `_id` digests, and `unreachable`, which held every delivery.
DELIVERY_RETIRED = {DELIVERIES: ["one_per_event_recipient_channel", "unreachable"]}


def claimable_at(status: DeliveryStatus, next_attempt_at: datetime | None) -> datetime:
    """When a delivery in `status` may be claimed: its next attempt if it is queued."""
    if status in RETRYABLE and next_attempt_at is not None:
        return next_attempt_at
    return FINAL


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
        "claimable_at": claimable_at(d.status, d.next_attempt_at),
        "lease_until": None,
        "owner": None,
        "created_at": d.created_at,
        "sent_at": d.sent_at,
    }
    if d.no_contact:
        doc["no_contact"] = True
    return doc


def _held(doc: Document, lease: Lease | None) -> Document:
    if lease is not None and doc["status"] == DeliveryStatus.PENDING.value:
        doc.update(claimable_at=lease.until, lease_until=lease.until, owner=lease.owner)
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

    async def record_many(
        self,
        deliveries: list[Delivery],
        session: AsyncClientSession | None = None,
        lease: Lease | None = None,
        assume_new: bool = False,
    ) -> set[str]:
        """Inserts the deliveries not stored yet (one per news, recipient and channel: the id
        says which); returns the ids inserted. The existing ones are read first, so a
        transaction never meets a duplicate key (it would abort it), unless `assume_new` (an
        optimistic unit of work: a duplicate key runs it again with the read). The pending ones
        are stored held by `lease` when there is one (a worker of this process sends them)."""
        unique: dict[str, Delivery] = {}
        for d in deliveries:
            unique.setdefault(d.id, d)  # the same delivery twice in one batch: the first counts
        if not unique:
            return set()
        stored: set[str] = set()
        if not assume_new:
            cursor = self.col.find({"_id": {"$in": list(unique)}}, {"_id": 1}, session=session)
            stored = {doc["_id"] async for doc in cursor}
        new = [d for d in unique.values() if d.id not in stored]
        if new:
            await self.col.insert_many([_held(to_document(d), lease) for d in new], session=session)
        return {d.id for d in new}

    async def unreachable_assignments(
        self, since: datetime, session: AsyncClientSession | None = None, limit: int = 5000
    ) -> list[Delivery]:
        """Log entries of assignments since `since` whose agency had no contact to reach."""
        # Only fields of the `unreachable` index in the filter; the event type is checked here.
        query = {"no_contact": True, "created_at": {"$gte": since}}
        cursor = self.col.find(query, session=session).sort("created_at", ASCENDING).limit(limit)
        found = [from_document(d) async for d in cursor]
        return [d for d in found if d.news.event_type == Topic.REPORT_ASSIGNED]

    async def of_reports(
        self, report_ids: list[str], session: AsyncClientSession | None = None
    ) -> list[Delivery]:
        """Every delivery of these reports (a report has a few dozen at most)."""
        if not report_ids:
            return []
        cursor = self.col.find({"report_id": {"$in": report_ids}}, session=session)
        return [from_document(d) async for d in cursor]

    async def mark_reachable(
        self, ids: list[str], session: AsyncClientSession | None = None
    ) -> None:
        if ids:
            await self.col.update_many(
                {"_id": {"$in": ids}}, {"$unset": {"no_contact": ""}}, session=session
            )

    async def page(self, filters: DeliveryFilter, limit: int, offset: int) -> list[Delivery]:
        """The delivery log, oldest first. A report's deliveries are read by the report alone
        (the `by_report` index) and the other filters applied here: a report has few."""
        order = [("created_at", ASCENDING), ("_id", ASCENDING)]
        if filters.report_id is None:
            cursor = self.col.find(_filter(filters)).sort(order).skip(offset).limit(limit)
            return [from_document(d) async for d in cursor]
        wanted = _filter(filters)
        cursor = self.col.find({"report_id": filters.report_id}).sort(order)
        found = [d async for d in cursor if all(d.get(k) == v for k, v in wanted.items())]
        return [from_document(d) for d in found[offset : offset + limit]]
