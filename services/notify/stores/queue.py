"""The delivery worker's queue: the queued deliveries of `deliveries`, by `claimable_at`.

A round claims a batch with one range read (`claimable_at` up to the look-ahead, which also says
when the next delivery falls due) and one lease write by `_id`, and records every outcome with
one bulk write; a lease taken under one round's token is given back only by that round.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, UpdateMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.domain.model import RETRYABLE, Claimed, Delivery, DeliveryStatus, Outcome
from services.notify.stores.deliveries import DELIVERIES, claimable_at, from_document
from shared.mongo import Document

_QUEUED = [s.value for s in RETRYABLE]
_ADOPT_CHUNK = 1000
NOW_DUE = datetime(1970, 1, 1, tzinfo=UTC)  # a queued delivery with no next attempt: due now


def _outcome_changes(outcome: Outcome) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "status": outcome.status.value,
        "attempts": outcome.attempts,
        "last_error": outcome.last_error,
        "lease_until": None,
        "claimable_at": claimable_at(outcome.status, outcome.next_attempt_at),
    }
    if outcome.next_attempt_at is not None:
        changes["next_attempt_at"] = outcome.next_attempt_at
    if outcome.sent_at is not None:
        changes["sent_at"] = outcome.sent_at
    return changes


class DeliveryQueue:
    def __init__(self, db: AsyncDatabase[Document], owner: str | None = None) -> None:
        self.col = db[DELIVERIES]
        self.owner = owner or uuid.uuid4().hex

    async def claim(
        self, now: datetime, lease: timedelta, limit: int, look_ahead: timedelta
    ) -> Claimed:
        """Leases up to `limit` due deliveries, oldest due first (safe with many replicas)."""
        horizon = {"claimable_at": {"$lte": now + look_ahead}}
        cursor = self.col.find(horizon).sort("claimable_at", ASCENDING).limit(limit)
        docs = [d async for d in cursor]
        due = [d for d in docs if d["claimable_at"] <= now]
        # A read full of due ones may have left more: the next round is due at once.
        later = (
            now if len(due) >= limit else next((d["claimable_at"] for d in docs[len(due) :]), None)
        )
        token = f"{self.owner}:{uuid.uuid4().hex}"
        if not due:
            return Claimed(token, [], later)
        ids = [d["_id"] for d in due]
        until = now + lease
        res = await self.col.update_many(
            {"_id": {"$in": ids}, "claimable_at": {"$lte": now}},
            {"$set": {"claimable_at": until, "lease_until": until, "owner": token}},
        )
        if res.modified_count < len(due):  # another replica leased some of them first
            owners = self.col.find({"_id": {"$in": ids}}, {"owner": 1})
            mine = {d["_id"] async for d in owners if d.get("owner") == token}
            due = [d for d in due if d["_id"] in mine]
        return Claimed(token, [from_document(d) for d in due], later)

    async def finish(self, token: str, outcomes: list[tuple[Delivery, Outcome]]) -> None:
        """Records the outcomes of a round's attempts where `token` still holds the lease: one
        update per distinct outcome (a round's sent ones share one), in one bulk write."""
        groups: dict[tuple[tuple[str, Any], ...], list[str]] = {}
        for delivery, outcome in outcomes:
            changes = tuple(sorted(_outcome_changes(outcome).items()))
            groups.setdefault(changes, []).append(delivery.id)
        if groups:
            await self.col.bulk_write(
                [
                    UpdateMany({"_id": {"$in": ids}, "owner": token}, {"$set": dict(changes)})
                    for changes, ids in groups.items()
                ],
                ordered=False,
            )

    async def queue_depths(self) -> dict[str, int]:
        """Deliveries still to send, by state (`pending`, `failed`): one read of the `due`
        index, as long as the queue is (never the history)."""
        cursor = await self.col.aggregate(
            [
                {"$match": {"status": {"$in": _QUEUED}}},
                {"$group": {"_id": "$status", "n": {"$sum": 1}}},
            ]
        )
        found = {d["_id"]: int(d["n"]) async for d in cursor}
        return {state: found.get(state, 0) for state in _QUEUED}

    async def adopt_legacy(self) -> int:
        """Deliveries stored before `claimable_at` get one (queued ones: their next attempt,
        or at once); returns how many. On a current database: one read that finds none."""
        adopted = 0
        while True:
            cursor = self.col.find({"claimable_at": None}).limit(_ADOPT_CHUNK)
            docs = [d async for d in cursor]
            if not docs:
                return adopted
            await self.col.bulk_write(
                [UpdateOne({"_id": d["_id"]}, {"$set": _adopted(d)}) for d in docs],
                ordered=False,
            )
            adopted += len(docs)


def _adopted(doc: Document) -> dict[str, Any]:
    """`claimable_at` for a document written before it existed."""
    status = DeliveryStatus(doc["status"])
    next_at = doc.get("next_attempt_at") or NOW_DUE
    lease = doc.get("lease_until")
    if lease is not None and lease > next_at:
        next_at = lease  # still leased by a worker of the previous version
    return {"claimable_at": claimable_at(status, next_at)}
