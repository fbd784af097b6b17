"""Idempotent creates keyed by the client's `Idempotency-Key`, scoped to the client."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any


class Decision(Enum):
    NEW = "new"  # no record: create
    REPLAY = "replay"  # same key, same body: answer the stored report, create nothing
    CONFLICT = "conflict"  # same key, another body: refuse (409)


@dataclass(frozen=True)
class IdempotencyRecord:
    """One client's key (`key` is `scoped_key`), written with the report it created."""

    key: str
    fingerprint: str
    report_id: str
    token_sealed: str  # sealed so a retry can be given the token it never received
    created_at: datetime


def fingerprint(body: Mapping[str, Any]) -> str:
    """A stable hash of the request content (key order and whitespace do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def decide(stored: IdempotencyRecord | None, body_fingerprint: str) -> Decision:
    if stored is None:
        return Decision.NEW
    return Decision.REPLAY if stored.fingerprint == body_fingerprint else Decision.CONFLICT


def client_identity(client_id: str | None, ip: str) -> str:
    """Who a key belongs to: the app's `X-Client-Id` when it sends one (stable across networks),
    else the client IP. Prefixed so an id can never pose as an IP."""
    client_id = (client_id or "").strip()
    return f"id:{client_id}" if client_id else f"ip:{ip}"


def scoped_key(client: str, key: str) -> str:
    """The record id of one client's key: the same key from two clients is two records, so they
    never collide and one cannot replay (and read) the other's report by guessing its key."""
    return hashlib.sha256(json.dumps([client, key]).encode()).hexdigest()
