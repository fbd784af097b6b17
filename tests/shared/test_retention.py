"""What a service keeps only for a while (`shared/retention.py`), on the real database: what is
past its retention is deleted, in chunks, by an ordinary index; the TTL index it replaces goes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document, ensure_indexes
from shared.outbox import OUTBOX
from shared.retention import Expiry, Retention, expiry_indexes, retired_indexes
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from tests.conftest import Infra
from tests.support import unique

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
KEEP = Expiry("inbox", "processed_at", timedelta(days=30), "inbox_processed_at", "inbox_ttl")


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    database = client[unique("retention")]
    await ensure_indexes(database, expiry_indexes([KEEP]))
    yield database
    await client.drop_database(database.name)
    await client.close()


async def _stored(db: AsyncDatabase[Document], ages_days: Sequence[float]) -> None:
    await db["inbox"].insert_many(
        [{"_id": f"e{i}", "processed_at": NOW - timedelta(days=d)} for i, d in enumerate(ages_days)]
    )


async def _left(db: AsyncDatabase[Document]) -> list[str]:
    return sorted([d["_id"] async for d in db["inbox"].find({}, {"_id": 1})])


async def test_documents_past_their_retention_are_deleted_and_the_rest_kept(
    db: AsyncDatabase[Document],
) -> None:
    await _stored(db, [31, 1, 45, 29.9])
    deleted = await Retention(db, [KEEP], clock=lambda: NOW).sweep_once()
    assert (deleted, await _left(db)) == ({"inbox": 2}, ["e1", "e3"])


async def test_one_sweep_deletes_every_chunk_of_what_expired(db: AsyncDatabase[Document]) -> None:
    await _stored(db, [40] * 7 + [1])
    deleted = await Retention(db, [KEEP], clock=lambda: NOW, chunk=3).sweep_once()
    assert (deleted, await _left(db)) == ({"inbox": 7}, ["e7"])


async def test_a_document_without_the_date_is_kept(db: AsyncDatabase[Document]) -> None:
    await db["inbox"].insert_one({"_id": "pending"})  # e.g. an outbox entry not sent yet
    await Retention(db, [KEEP], clock=lambda: NOW).sweep_once()
    assert await _left(db) == ["pending"]


async def test_the_ttl_index_an_expiry_replaces_is_dropped_and_its_own_index_built(
    db: AsyncDatabase[Document],
) -> None:
    ttl = IndexModel("processed_at", name="inbox_ttl", expireAfterSeconds=60)
    await ensure_indexes(db, {"inbox": [ttl]})
    await ensure_indexes(db, expiry_indexes([KEEP]), retired=retired_indexes([KEEP]))
    names = set(await db["inbox"].index_information())
    assert names == {"_id_", "inbox_processed_at"}


async def test_dropping_a_retired_index_that_is_already_gone_is_not_an_error(
    db: AsyncDatabase[Document],
) -> None:
    await ensure_indexes(db, expiry_indexes([KEEP]), retired=retired_indexes([KEEP]))
    assert "inbox_ttl" not in await db["inbox"].index_information()


async def test_a_service_drops_the_outbox_indexes_earlier_versions_built(
    db: AsyncDatabase[Document],
) -> None:
    old = [IndexModel([("status", 1), ("ts", 1)], name="pending_by_ts")]
    await ensure_indexes(db, {OUTBOX: [*old, IndexModel([("subject", 1)], name="by_subject_type")]})
    runtime = Runtime(ServiceSettings(service_name="svc"), {})
    await ensure_indexes(db, runtime.indexes, retired=runtime.retired_indexes)
    assert set(await db[OUTBOX].index_information()) == {"_id_", "claimable", "sent_at"}
