"""Rules of the resident's own actions on a report, and its secret tracking token."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Iterable

from shared.events import OPEN_STATUSES, Status

from .errors import InvalidToken, NotOpen, NotResolved
from .report import Nearby, Report

_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def valid_id(value: str) -> bool:
    """The shape of ids a client may ask for (report and photo ids): anything else is not found
    without being looked up."""
    return bool(_ID_RE.match(value))


def new_tracking_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    """Tokens are 192-bit random, so a plain SHA-256 is enough (no offline guessing possible)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, stored_hash: str | None) -> bool:
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)


def check_token(token: str | None, stored_hash: str | None) -> None:
    if not token_matches(token, stored_hash):
        raise InvalidToken("a valid tracking token is required")


def check_can_rate(status: str) -> None:
    if status != Status.RESOLVED:
        raise NotResolved("only a resolved report can be rated")


def check_can_reopen(status: str) -> None:
    if status not in (Status.RESOLVED, Status.CLOSED):
        raise NotResolved("only a resolved or closed report can be reopened")


def check_can_support(status: str) -> None:
    if status not in OPEN_STATUSES:
        raise NotOpen("only an open report can be supported")


def supporter_key(client_fingerprint: str) -> str:
    """Who supports: a hash of what identifies the client (never stored in clear)."""
    return hashlib.sha256(client_fingerprint.encode()).hexdigest()[:32]


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def with_distances(lat: float, lon: float, reports: Iterable[Report]) -> list[Nearby]:
    """Each report with its distance from the point, rounded to 0.1 m."""
    return [Nearby(r, round(distance_m(lat, lon, r.lat, r.lon), 1)) for r in reports]
