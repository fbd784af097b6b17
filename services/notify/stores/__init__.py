"""Notify's MongoDB collections (its own database; no other service reads them).

The stores map domain objects to documents and back; every method takes the unit of work's
`session` when it writes (None outside a transaction).
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import IndexModel

from services.notify.stores.deliveries import (
    DELIVERIES,
    DELIVERY_INDEXES,
    DELIVERY_RETIRED,
    DeliveryStore,
)
from services.notify.stores.preferences import PreferenceStore
from services.notify.stores.queue import DeliveryQueue
from services.notify.stores.reports import REPORT_INDEXES, REPORTS, STATUS_CHANGES, ReportStore

INDEXES: dict[str, Sequence[IndexModel]] = {**REPORT_INDEXES, **DELIVERY_INDEXES}
RETIRED: dict[str, list[str]] = {**DELIVERY_RETIRED}  # dropped at startup

__all__ = [
    "DELIVERIES",
    "INDEXES",
    "REPORTS",
    "RETIRED",
    "STATUS_CHANGES",
    "DeliveryQueue",
    "DeliveryStore",
    "PreferenceStore",
    "ReportStore",
]
