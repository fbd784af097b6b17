"""MongoDB adapters of intake: reports, idempotency keys, supports; the catalogue copy and the
photos are the shared `CatalogCopy` and `PhotoStore`."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import IndexModel

from shared.photos import photo_indexes

from .keys import IdempotencyStore, SupportStore, idempotency_expiry
from .reports import ReportStore, report_indexes
from .triage import triage_indexes

PHOTOS = "photos"  # GridFS bucket: photos.files / photos.chunks

__all__ = [
    "PHOTOS",
    "IdempotencyStore",
    "ReportStore",
    "SupportStore",
    "idempotency_expiry",
    "indexes",
]


def indexes() -> dict[str, Sequence[IndexModel]]:
    return {
        **report_indexes(),
        **photo_indexes(PHOTOS),
        **triage_indexes(),
    }
