"""The copy of routing's token versions kept by notify and intake (`shared/account_versions.py`),
on the real database: the highest version wins, and the feed is read by when it was stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.account_versions import ACCOUNT_VERSION_INDEXES, AccountVersions
from shared.events import AccountChangedV1
from shared.mongo import Document, ensure_indexes
from tests.conftest import Infra
from tests.support import unique

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    database = client[unique("accounts")]
    await ensure_indexes(database, ACCOUNT_VERSION_INDEXES)
    yield database
    await client.close()


def _changed(version: int, username: str = "op.1") -> AccountChangedV1:
    return AccountChangedV1(username=username, token_version=version, changed_at=T0)


async def test_an_older_or_repeated_version_does_not_replace_the_copy(
    db: AsyncDatabase[Document],
) -> None:
    versions = AccountVersions(db)
    stored = [await versions.save(_changed(v), None) for v in (2, 1, 2, 3)]
    assert (stored, await versions.changed_since(T0)) == ([True, False, False, True], [("op.1", 3)])


async def test_a_change_that_arrives_late_is_in_the_feed_of_its_arrival(
    db: AsyncDatabase[Document],
) -> None:
    arrival = T0 + timedelta(hours=1)  # routing changed it at T0; the consumer lagged an hour
    versions = AccountVersions(db, clock=lambda: arrival)
    await versions.save(_changed(1), None)
    assert await versions.changed_since(T0 + timedelta(minutes=59)) == [("op.1", 1)]
    assert await versions.changed_since(arrival + timedelta(seconds=1)) == []
