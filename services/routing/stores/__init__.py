"""MongoDB adapters of routing: they map domain objects to documents and back.

`jurisdiction` (the current document) and `areas` (2dsphere), `assignments` (one per report,
revision-guarded), `accounts` (with the revocation feed), `login_failures` (throttling), the resolution photos'
GridFS bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import IndexModel

from services.routing.stores.accounts import ACCOUNT_INDEXES, AccountStore
from services.routing.stores.assignments import ASSIGNMENT_INDEXES, AssignmentStore
from services.routing.stores.jurisdiction import AREA_INDEXES, JurisdictionStore
from services.routing.stores.logins import LOGIN_EXPIRY, LoginFailureStore
from shared.mongo import utcnow_ms
from shared.photos import photo_indexes

PHOTOS_BUCKET = "photos"

INDEXES: dict[str, Sequence[IndexModel]] = {
    **AREA_INDEXES,
    **ACCOUNT_INDEXES,
    **ASSIGNMENT_INDEXES,
    **photo_indexes(PHOTOS_BUCKET),
}

__all__ = [
    "INDEXES",
    "LOGIN_EXPIRY",
    "PHOTOS_BUCKET",
    "AccountStore",
    "AssignmentStore",
    "JurisdictionStore",
    "LoginFailureStore",
    "now_ms",
]


def now_ms() -> datetime:
    """The clock of routing's use cases. MongoDB keeps milliseconds: truncated so that stored
    and in-memory times compare equal."""
    return utcnow_ms()
