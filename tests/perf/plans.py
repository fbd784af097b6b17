"""Query shapes read from the embedded database's profiler, and their plans.

The profiler (`profile` level 2) records every operation a service sends. A *shape* is a
collection, a filter with its values replaced by their types, and a sort: the same shape is the
same plan whatever the values. `explain()` on one example of each shape tells whether an index
serves it.

What counts as served: the plan scans an index (IXSCAN). Point lookups by the primary key need
no other index: an `_id` equality or an `_id` `$in` (the embedded
server's explain() reports those as a scan when another field is filtered too, but answers them
from the primary key: measured, 1-2 ms on 10,000 documents against 180 ms for a real scan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document

QUERY_OPS = {"find", "count", "distinct", "aggregate", "findAndModify", "update", "delete"}


@dataclass(frozen=True)
class Query:
    collection: str
    filter: Document
    sort: Document | None = None
    limit: int | None = None

    @property
    def shape(self) -> str:
        return f"{self.collection} {_shape(self.filter)} sort={_shape(self.sort or {})}"


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def queries_of(entry: Document) -> list[Query]:
    """The filters an operation recorded by the profiler ran (none for inserts and commands)."""
    cmd = entry.get("command") or {}
    name = next(iter(cmd), "")
    if name not in QUERY_OPS:
        return []
    col = str(cmd[name])
    if name == "find":
        return [Query(col, cmd.get("filter") or {}, cmd.get("sort"), cmd.get("limit"))]
    if name in ("count", "distinct", "findAndModify"):
        return [Query(col, cmd.get("query") or {}, cmd.get("sort"))]
    if name == "aggregate":
        first = (cmd.get("pipeline") or [{}])[0]
        return [Query(col, first["$match"])] if "$match" in first else [Query(col, {})]
    if name == "update":
        return [Query(col, u.get("q") or {}) for u in cmd.get("updates", [])]
    return [Query(col, d.get("q") or {}) for d in cmd.get("deletes", [])]


def bounded_without_index(query: Query) -> bool:
    """A point lookup by primary key, or the first document of a collection (`find_one({})`,
    which the driver's GridFS sends once per bucket): they examine one document, or a few."""
    if not query.filter and query.limit == 1 and not query.sort:
        return True
    key = query.filter.get("_id")
    return key is not None and (not isinstance(key, dict) or set(key) == {"$in"})


def has_or(value: Any) -> bool:
    if isinstance(value, dict):
        return "$or" in value or any(has_or(v) for v in value.values())
    if isinstance(value, list):
        return any(has_or(v) for v in value)
    return False


async def plan_stages(db: AsyncDatabase[Document], query: Query) -> list[str]:
    cursor = db[query.collection].find(query.filter)
    if query.sort:
        cursor = cursor.sort(list(query.sort.items()))
    plan = (await cursor.explain())["queryPlanner"]["winningPlan"]
    stages: list[str] = []
    while plan:
        stages.append(str(plan.get("stage")))
        plan = plan.get("inputStage")
    return stages
