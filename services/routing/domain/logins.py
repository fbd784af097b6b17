"""Login throttling: how long a key (an account, a client address) must wait after failures."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    """After `free` failures the key is locked for `base_s`, doubling with every further
    failure (each one checked once its lock is over), up to `max_s`. Failures are forgotten
    `window_s` after the last one."""

    free: int
    base_s: float = 1.0
    max_s: float = 300.0
    window_s: float = 900.0

    def lock_after(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        exponent = min(failures - self.free, 30)
        return timedelta(seconds=min(self.base_s * 2**exponent, self.max_s))

    def forgotten_at(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.window_s)


@dataclass(frozen=True)
class LoginPolicy:
    per_account: Backoff
    per_client: Backoff


def account_key(username: str) -> str:
    return f"account:{username}"


def client_key(client: str) -> str:
    return f"client:{client}"


def wait_seconds(locked_until: datetime, now: datetime) -> int:
    """The Retry-After of a lock: whole seconds, at least one."""
    return max(1, math.ceil((locked_until - now).total_seconds()))
