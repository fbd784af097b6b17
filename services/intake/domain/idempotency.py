"""Idempotent creates keyed by the client's `Idempotency-Key`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any


class Decision(Enum):
    NEW = "new"  # no record: create
    REPLAY = "replay"  # same key, same body: answer the stored report, create nothing
    CONFLICT = "conflict"  # same key, another body: refuse (409)


def fingerprint(body: Mapping[str, Any]) -> str:
    """A stable hash of the request content (key order and whitespace do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def decide(stored: Mapping[str, Any] | None, body_fingerprint: str) -> Decision:
    if stored is None:
        return Decision.NEW
    return Decision.REPLAY if stored.get("fingerprint") == body_fingerprint else Decision.CONFLICT
