"""Opaque cursors for the public feed (newest first)."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from .errors import InvalidInput


def encode_cursor(created_at: datetime, report_id: str) -> str:
    raw = json.dumps({"c": created_at.isoformat(), "i": report_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        return datetime.fromisoformat(data["c"]), str(data["i"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput("cursor is not valid", field="cursor") from exc
