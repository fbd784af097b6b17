"""Anonymous resident tokens: what "+1" is counted against, one per resident.

A token is `r1.<id>.<issued>.<mac>`: a 128-bit random id, the issue time (Unix seconds) and an
HMAC-SHA256 over both with a key only intake holds. Nobody can make one without asking intake
(which limits how many each client gets); forging needs the key. No personal data is in it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from .errors import InvalidResidentToken, ResidentTokenRequired

PREFIX = "r1"
_KEY_LABEL = b"fieldreports intake resident token v1"


def derive_key(secret: bytes) -> bytes:
    """The token key, derived from a secret intake already holds (a separate, labelled key:
    a token MAC reveals nothing about the secret)."""
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, resident_id: str, issued: int) -> str:
    digest = hmac.new(key, f"{PREFIX}.{resident_id}.{issued}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(key: bytes, issued: int) -> str:
    resident_id = secrets.token_hex(16)
    return f"{PREFIX}.{resident_id}.{issued}.{_mac(key, resident_id, issued)}"


def resident_of(key: bytes, token: str | None, now: int, max_age_s: int) -> str:
    """The resident id of a valid, unexpired token; `ResidentTokenRequired` without one,
    `InvalidResidentToken` for a forged, altered or expired one."""
    if not token:
        raise ResidentTokenRequired("a resident token is required (POST /api/v1/residents)")
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[2].isdigit() or len(parts[1]) != 32:
        raise InvalidResidentToken("the resident token is not valid")
    resident_id, issued = parts[1], int(parts[2])
    if not hmac.compare_digest(parts[3], _mac(key, resident_id, issued)):
        raise InvalidResidentToken("the resident token is not valid")
    if not issued <= now + 60 or now - issued > max_age_s:
        raise InvalidResidentToken("the resident token has expired; ask for a new one")
    return resident_id
