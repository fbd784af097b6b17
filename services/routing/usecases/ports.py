"""What routing's use cases need from storage (the `stores/` adapters, or the tests' fakes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from services.routing.domain.accounts import Account, Credentials
from services.routing.domain.assignment import Assignment
from services.routing.domain.closures import Closures
from services.routing.domain.jurisdiction import Jurisdiction
from services.routing.domain.queue import DueTime, QueueFilter
from shared.uow import Session


class JurisdictionStore(Protocol):
    async def current(self, session: Session = None) -> Jurisdiction | None: ...

    async def version(self, session: Session = None) -> int | None: ...

    async def save(self, j: Jurisdiction, session: Session = None) -> None: ...

    async def stamp(self, session: Session = None) -> tuple[int, int] | None: ...

    async def closures(self, session: Session = None) -> Closures: ...

    async def save_closures(self, closures: Closures, session: Session = None) -> None: ...


class AssignmentStore(Protocol):
    async def get(
        self, assignment_id: str, session: Session = None
    ) -> tuple[Assignment, int] | None: ...

    async def by_report(
        self, report_id: str, session: Session = None
    ) -> tuple[Assignment, int] | None: ...

    async def by_reports(
        self, report_ids: Sequence[str], session: Session = None
    ) -> dict[str, tuple[Assignment, int]]: ...

    async def insert(self, new: Sequence[Assignment], session: Session = None) -> None: ...

    async def insert_absent(
        self, new: Sequence[Assignment], session: Session = None
    ) -> set[str]: ...

    async def save(self, a: Assignment, rev: int, session: Session = None) -> None: ...

    async def save_many(
        self, changed: Sequence[tuple[Assignment, int]], session: Session = None
    ) -> None: ...

    async def duplicates_of(
        self, report_id: str, session: Session = None
    ) -> list[tuple[Assignment, int]]: ...

    async def query(
        self, f: QueueFilter, now: datetime, session: Session = None
    ) -> list[Assignment]: ...

    async def open_due_times(self, session: Session = None) -> list[DueTime]: ...

    async def overdue_due_times(self, now: datetime, session: Session = None) -> list[DueTime]: ...

    async def open_due_from(
        self, since: datetime, session: Session = None
    ) -> list[tuple[Assignment, int]]: ...


class AccountStore(Protocol):
    async def login(self, username: str, session: Session = None) -> Credentials | None: ...

    async def add_if_absent(
        self, account: Account, password_hash: str, session: Session = None
    ) -> None: ...

    async def put(
        self, account: Account, password_hash: str, changed_at: datetime, session: Session = None
    ) -> int: ...

    async def delete(
        self, username: str, changed_at: datetime, session: Session = None
    ) -> int | None: ...

    async def changed_since(
        self, since: datetime, session: Session = None
    ) -> list[tuple[str, int]]: ...

    async def all(self, session: Session = None) -> list[Account]: ...

    async def usernames(self, session: Session = None) -> set[str]: ...


class LoginFailureStore(Protocol):
    async def locked_until(
        self, keys: Sequence[str], now: datetime, session: Session = None
    ) -> tuple[datetime | None, set[str]]: ...

    async def failed(
        self, key: str, now: datetime, forget_at: datetime, session: Session = None
    ) -> int: ...

    async def lock(self, key: str, until: datetime, session: Session = None) -> None: ...

    async def clear(self, key: str, session: Session = None) -> None: ...


class PhotoStore(Protocol):
    """`shared.photos.PhotoStore`: pending until confirmed in the accepting unit of work."""

    async def put_pending(
        self, data: bytes, content_type: str, owner: str, file_id: str | None = None
    ) -> str: ...

    async def confirm(self, file_ids: Sequence[str], session: Session) -> None: ...

    async def discard(self, file_ids: Sequence[str]) -> None: ...

    async def get(self, file_id: str) -> tuple[bytes, str] | None: ...
