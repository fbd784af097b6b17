"""Rules of the resident's own actions on a report, and its secret tracking token."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets

from shared.events import Status

from .errors import Conflict

OPEN = frozenset({Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS})


def new_tracking_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    """Tokens are 192-bit random, so a plain SHA-256 is enough (no offline guessing possible)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, stored_hash: str | None) -> bool:
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)


def check_can_rate(status: str) -> None:
    if status != Status.RESOLVED:
        raise Conflict("only a resolved report can be rated", code="not_resolved")


def check_can_reopen(status: str) -> None:
    if status not in (Status.RESOLVED, Status.CLOSED):
        raise Conflict("only a resolved or closed report can be reopened", code="not_resolved")


def check_can_support(status: str) -> None:
    if status not in OPEN:
        raise Conflict("only an open report can be supported", code="not_open")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
