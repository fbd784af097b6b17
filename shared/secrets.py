"""What makes a secret too weak for production: a development default, a placeholder, too
short, too regular. Each refusal names the variable and says how to make a good one."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

Kind = Literal["key", "secret", "password", "api_keys"]

PLACEHOLDER = re.compile(
    r"replace|change|example|placeholder|secret|password|passwd|dev[-_]?only|default|todo|"
    r"xxx|<.*>|^test|^demo|^admin|^(.)\1*$",
    re.IGNORECASE,
)
GENERATE = {
    "key": "python3 -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())'",
    "secret": "python3 -c 'import secrets;print(secrets.token_urlsafe(48))'",
    "password": "a passphrase of 14+ characters with letters, digits and symbols",
    "api_keys": "python3 -c 'import secrets;print(secrets.token_urlsafe(32))' (per client)",
}
MIN_LENGTH = {"secret": 32, "password": 14, "api_keys": 24}
MIN_BITS_PER_CHAR = 3.0  # a random base64/url-safe string has about 6; "aaaabbbb..." about 1


@dataclass(frozen=True)
class Secret:
    value: str | None
    kind: Kind
    dev_default: str | None = None
    required: bool = True

    def problem(self) -> str | None:
        """Why this secret would be refused in production, or None."""
        if not self.value:
            return "is not set" if self.required else None
        if self.dev_default is not None and self.value == self.dev_default:
            return f"is the development default: generate one with {GENERATE[self.kind]}"
        values = self.value.split(",") if self.kind == "api_keys" else [self.value]
        for value in (v.strip() for v in values):
            found = _weakness(value, self.kind)
            if found:
                return f"{found}: generate one with {GENERATE[self.kind]}"
        return None


def _weakness(value: str, kind: Kind) -> str | None:
    if kind == "key":
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return "is not base64"
        if len(raw) != 32:
            return f"decodes to {len(raw)} bytes, not 32"
        return "is not random" if len(set(raw)) < 16 else None
    if PLACEHOLDER.search(value):
        return "looks like a placeholder"
    if len(value) < MIN_LENGTH[kind]:
        return f"is shorter than {MIN_LENGTH[kind]} characters"
    if kind == "password":
        classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^\w]"))
        random_enough = len(value) >= 20 and _bits_per_char(value) >= MIN_BITS_PER_CHAR
        if classes < 3 and not random_enough:
            return "needs three of: lower case, upper case, digits, symbols"
        return None
    return "is too regular to be random" if _bits_per_char(value) < MIN_BITS_PER_CHAR else None


def _bits_per_char(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
