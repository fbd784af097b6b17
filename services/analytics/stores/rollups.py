"""The rollups collection: running totals of the facts (`domain/rollups.py`), one document per
line, `_id` = the line's key; `meta` says which rules and grid cell they were built with."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect

from services.analytics.domain.rollups import (
    FROM,
    HIST,
    KINDS,
    WHERE,
    Counts,
    RollupBasis,
    RollupKey,
    RollupRow,
)
from shared.mongo import Document

ROLLUPS = "rollups"
ROLLUPS_INDEXES = [IndexModel([("kind", ASCENDING), ("day", ASCENDING)], name="by_kind_day")]
META = "meta"
_KEY = tuple(f.name for f in fields(RollupKey))
_NOT_COUNTS = {*_KEY, "_id", "hist", "by", "from"}

Line = tuple[RollupKey, Counts]


def rollup_id(key: RollupKey) -> str:
    return json.dumps([getattr(key, f) for f in _KEY], separators=(",", ":"), ensure_ascii=False)


def _field(name: str) -> str:
    """A name usable as one field name (no dot, no leading dollar)."""
    return name.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def _name(field: str) -> str:
    return field.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def _path(counter: str) -> str:
    """`h12` (histogram bucket 12) is stored at `hist.12`, a (category, agency, area) count
    under `by`, a corrected-from count under `from`; the other counters at the top."""
    bucket = counter[len(HIST) :]
    if counter.startswith(HIST) and bucket.isdigit():
        return f"hist.{bucket}"
    if counter.startswith(WHERE):
        return f"by.{_field(counter[len(WHERE) :])}"
    if counter.startswith(FROM):
        return f"from.{_field(counter[len(FROM) :])}"
    return counter


def _update(key: RollupKey, counts: Counts) -> UpdateOne:
    return UpdateOne(
        {"_id": rollup_id(key)},
        {
            "$setOnInsert": {f: getattr(key, f) for f in _KEY},
            "$inc": {_path(k): v for k, v in counts.items()},
        },
        upsert=True,
    )


def _row(doc: Document) -> RollupRow:
    counts: Counts = {k: v for k, v in doc.items() if k not in _NOT_COUNTS}
    counts |= {f"{HIST}{b}": n for b, n in (doc.get("hist") or {}).items()}
    counts |= {WHERE + _name(k): n for k, n in (doc.get("by") or {}).items()}
    counts |= {FROM + _name(k): n for k, n in (doc.get("from") or {}).items()}
    key: dict[str, Any] = {f: doc.get(f) for f in _KEY}
    return RollupRow(RollupKey(**key), counts)


class RollupStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[ROLLUPS]

    async def apply(self, lines: Sequence[Line], session: AsyncClientSession | None = None) -> None:
        """Adds each line's changes (one write for all of them)."""
        if lines:
            await self.col.bulk_write([_update(k, c) for k, c in lines], session=session)

    async def rows(
        self,
        kind: str,
        first_day: str | None = None,
        last_day: str | None = None,
        histograms: bool = True,
    ) -> list[RollupRow]:
        """The lines of one kind (`CREATED`, `RESOLVED`: of the days in the range, if given),
        without their resolve-time histograms unless asked."""
        query: dict[str, Any] = {"kind": kind}
        if first_day is not None or last_day is not None:
            query["day"] = {"$gte": first_day or "", "$lte": last_day or "9999"}
        projection = None if histograms else {"hist": 0}
        return [_row(d) async for d in self.col.find(query, projection)]

    async def basis(self) -> RollupBasis | None:
        doc = await self.col.find_one({"_id": META})
        return None if doc is None else RollupBasis(doc["version"], doc["cell_deg"])

    async def replace_all(self, lines: Sequence[Line], basis: RollupBasis) -> None:
        """Every line anew (after a rule or cell change; never on a hot path)."""
        await self.col.delete_many({"kind": {"$in": list(KINDS)}})
        for start in range(0, len(lines), 1000):
            await self.apply(lines[start : start + 1000])
        meta = {"kind": META, "version": basis.version, "cell_deg": basis.cell_deg}
        await self.col.replace_one({"_id": META}, meta, upsert=True)


class RollupGate:
    """Open once the rollups match the facts. Until then a consumer's batch is left for later:
    `check` raises the error the consumer treats as an unreachable database (redelivered,
    never dead-lettered)."""

    def __init__(self) -> None:
        self.open = False

    def opened(self) -> None:
        self.open = True

    def check(self) -> None:
        if not self.open:
            raise AutoReconnect("analytics' rollups are being built; the batch waits")
