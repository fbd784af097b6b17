"""Newest-first listings that read a bounded number of documents, however many are stored.

The embedded database reads every document a filter matches before it applies a sort and a
limit, so "the newest 20" over a whole collection costs the whole collection. A listing is
therefore read in windows of creation time, newest first, each one a range on the `feed`
index's leading field (an index scan), starting small and doubling, until enough documents
passed the listing's own filter (applied here, in Python: its fields differ from one request to
the next and no one index could hold them all) or the window reached the oldest time asked for.
`max_read` caps what one request reads: a listing whose filter keeps few documents stops there
and says where to resume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from shared.mongo import Document

FIRST_WINDOW = timedelta(minutes=10)
# Before any report: where a walk with no lower bound stops.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Walked:
    docs: list[Document]
    # (created_at, id) to resume strictly before, when the walk stopped at `max_read`
    resume: tuple[datetime, str] | None = None


def newest_key(doc: Document) -> tuple[datetime, str]:
    return _aware(doc["created_at"]), str(doc["_id"])


async def newest_first(
    col: AsyncCollection[Document],
    projection: dict[str, Any],
    keep: Callable[[Document], bool],
    want: int,
    *,
    before: tuple[datetime, str] | None = None,
    upper: datetime | None = None,
    upper_inclusive: bool = True,
    lower: datetime | None = None,
    max_read: int | None = None,
) -> Walked:
    """Up to `want` documents that `keep` accepts, newest first (`created_at`, then `_id`),
    created within [`lower`, `upper`] and strictly before `before` (a (created_at, id))."""
    floor = _aware(lower) if lower else EPOCH
    top = _aware(upper) if upper else None
    inclusive = upper_inclusive
    if before is not None and (top is None or _aware(before[0]) <= top):
        top, inclusive = _aware(before[0]), True
    out: list[Document] = []
    read = 0
    window = FIRST_WINDOW
    while True:
        start = max(floor, (top or datetime.now(UTC)) - window)
        query: dict[str, Any] = {"$gte": start}
        if top is not None:
            query["$lte" if inclusive else "$lt"] = top
        docs = [d async for d in col.find({"created_at": query}, projection)]
        read += len(docs)
        docs.sort(key=newest_key, reverse=True)
        out.extend(d for d in docs if (before is None or newest_key(d) < before) and keep(d))
        if len(out) >= want or start <= floor:
            return Walked(out[:want])
        if max_read is not None and read >= max_read:
            return Walked(out, resume=(start, ""))
        top, inclusive = start, False
        window *= 2


def _aware(at: datetime) -> datetime:
    """MongoDB hands datetimes back naive (UTC)."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
