"""What a service keeps only for a while (inbox records, sent outbox entries, idempotency keys,
login failures), deleted by the service itself, a bounded chunk at a time, through an ordinary
index on the date that ends it.

Not by TTL indexes. The embedded database's TTL monitor reads every document of every collection
that has a TTL index once a minute, under its storage lock: with 50,000 reports stored, every
command waited up to two seconds each minute. This sweep reads only the index range of what has
expired, so it costs what it deletes, on MongoDB too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from shared.aio import wait_any
from shared.events import utcnow
from shared.mongo import Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Expiry:
    """Documents of `collection` whose `field` (a date) is more than `keep` in the past are
    deleted. `retired_ttl`: the name of the TTL index this replaces, dropped at startup."""

    collection: str
    field: str
    keep: timedelta
    index_name: str
    retired_ttl: str | None = None

    def index(self) -> IndexModel:
        return IndexModel([(self.field, ASCENDING)], name=self.index_name)


def expiry_indexes(expiries: Sequence[Expiry]) -> dict[str, list[IndexModel]]:
    out: dict[str, list[IndexModel]] = {}
    for e in expiries:
        out.setdefault(e.collection, []).append(e.index())
    return out


def retired_indexes(expiries: Sequence[Expiry]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in expiries:
        if e.retired_ttl:
            out.setdefault(e.collection, []).append(e.retired_ttl)
    return out


class Retention:
    """One sweep deletes, for each expiry, what is past it: `chunk` ids read from the index, then
    deleted by id, until a read finds fewer than `chunk`."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        expiries: Sequence[Expiry],
        clock: Callable[[], datetime] = utcnow,
        chunk: int = 500,
    ) -> None:
        self.db = db
        self.expiries = list(expiries)
        self.clock = clock
        self.chunk = chunk

    async def sweep_once(self) -> dict[str, int]:
        """Deletes what has expired; returns how many documents per collection."""
        deleted: dict[str, int] = {}
        for e in self.expiries:
            deleted[e.collection] = deleted.get(e.collection, 0) + await self._expire(e)
        return deleted

    async def _expire(self, e: Expiry) -> int:
        col, cutoff, deleted = self.db[e.collection], self.clock() - e.keep, 0
        while True:
            past = {e.field: {"$lt": cutoff}}
            ids = [d["_id"] async for d in col.find(past, {"_id": 1}).limit(self.chunk)]
            if not ids:
                return deleted
            deleted += (await col.delete_many({"_id": {"$in": ids}, **past})).deleted_count
            if len(ids) < self.chunk:
                return deleted

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        """Sweeps every `interval_s` until `stop` (a runtime loop); a failed sweep is logged and
        the next one tries again."""
        while not stop.is_set():
            try:
                deleted = await self.sweep_once()
                if any(deleted.values()):
                    log.info("expired documents deleted", extra={"deleted": deleted})
            except Exception as exc:
                log.warning("retention sweep failed: %r", exc)
            await wait_any(stop, timeout=interval_s)
