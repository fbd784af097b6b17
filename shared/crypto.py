"""Sealing personal data for one reader: AES-256-GCM with a key from the environment."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class PiiBox:
    """Encrypts a JSON-able value to an opaque string and back. `aad` binds it to its context."""

    def __init__(self, key_b64: str) -> None:
        key = base64.b64decode(key_b64)
        if len(key) != 32:
            raise ValueError("PII key must be 32 bytes, base64-encoded")
        self._aead = AESGCM(key)

    def seal(self, value: Any, aad: str = "") -> str:
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps(value, ensure_ascii=False).encode()
        sealed = self._aead.encrypt(nonce, plain, aad.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, token: str, aad: str = "") -> Any:
        raw = base64.b64decode(token)
        plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad.encode())
        return json.loads(plain)
