"""In-memory stand-ins for the login stores: accounts with token versions, failed logins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.routing.domain.accounts import Account, Credentials
from shared.uow import Session


class FakeAccountStore:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[Account, str]] = {}
        self.versions: dict[str, tuple[int, datetime | None]] = {}  # deleted ones too

    async def login(self, username: str, session: Session = None) -> Credentials | None:
        row = self.rows.get(username)
        return Credentials(row[0], row[1], self.versions[username][0]) if row else None

    async def add_if_absent(
        self, account: Account, password_hash: str, session: Session = None
    ) -> None:
        if account.username not in self.versions:
            self.rows[account.username] = (account, password_hash)
            self.versions[account.username] = (0, None)

    async def put(
        self, account: Account, password_hash: str, changed_at: datetime, session: Session = None
    ) -> int:
        self.rows[account.username] = (account, password_hash)
        return self._bump(account.username, changed_at)

    async def delete(
        self, username: str, changed_at: datetime, session: Session = None
    ) -> int | None:
        if self.rows.pop(username, None) is None:
            return None
        return self._bump(username, changed_at)

    async def changed_since(
        self, since: datetime, session: Session = None
    ) -> list[tuple[str, int]]:
        return [(u, v) for u, (v, at) in self.versions.items() if at and at >= since]

    async def all(self, session: Session = None) -> list[Account]:
        return [self.rows[u][0] for u in sorted(self.rows)]

    async def usernames(self, session: Session = None) -> set[str]:
        return set(self.versions)

    def _bump(self, username: str, at: datetime) -> int:
        version = self.versions.get(username, (0, None))[0] + 1
        self.versions[username] = (version, at)
        return version


@dataclass
class FailureRow:
    failures: int
    forget_at: datetime
    locked_until: datetime | None = None


class FakeLoginFailureStore:
    def __init__(self) -> None:
        self.rows: dict[str, FailureRow] = {}

    async def locked_until(
        self, keys: Sequence[str], now: datetime, session: Session = None
    ) -> tuple[datetime | None, set[str]]:
        live = {k: r for k, r in self.rows.items() if k in keys and r.forget_at > now}
        locks = [r.locked_until for r in live.values() if r.locked_until and r.locked_until > now]
        return max(locks, default=None), set(live)

    async def failed(
        self, key: str, now: datetime, forget_at: datetime, session: Session = None
    ) -> int:
        row = self.rows.get(key)
        if row is None or row.forget_at <= now:
            row = self.rows[key] = FailureRow(0, forget_at)
        row.failures, row.forget_at = row.failures + 1, forget_at
        return row.failures

    async def lock(self, key: str, until: datetime, session: Session = None) -> None:
        self.rows[key].locked_until = until

    async def clear(self, key: str, session: Session = None) -> None:
        self.rows.pop(key, None)
