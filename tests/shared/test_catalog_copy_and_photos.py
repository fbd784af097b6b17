"""The catalogue copy (newest wins) and the pending-photo store, on the real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.catalog import CATALOG_KEY, CatalogV1
from shared.catalog_copy import CatalogCopy
from shared.events import utcnow
from shared.mongo import Document
from shared.photos import PhotoStore
from tests.conftest import Infra
from tests.support import unique


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    yield client[unique("shared")]
    await client.close()


def _catalog(version: int) -> CatalogV1:
    return CatalogV1(version=version, published_at=utcnow(), categories=[])


async def test_an_older_or_repeated_catalogue_does_not_replace_the_copy(
    db: AsyncDatabase[Document],
) -> None:
    copy = CatalogCopy(db)
    stored = [await copy.save(_catalog(v), None) for v in (2, 1, 2, 3)]
    loaded = await copy.load()
    assert (stored, loaded and loaded.version) == ([True, False, False, True], 3)


async def test_a_copy_kept_in_an_older_shape_is_replaced(db: AsyncDatabase[Document]) -> None:
    await db["catalog"].insert_one({"_id": CATALOG_KEY, "version": 5, "agencies": []})
    copy = CatalogCopy(db)
    assert await copy.load() is None
    assert await copy.save(_catalog(5), None)
    loaded = await copy.load()
    assert loaded is not None
    assert loaded.version == 5


async def test_a_pending_photo_is_not_served_until_confirmed(db: AsyncDatabase[Document]) -> None:
    photos = PhotoStore(db, "photos")
    file_id = await photos.put_pending(b"jpeg-bytes", "image/jpeg", owner="r1")
    before = await photos.get(file_id)
    await photos.confirm([file_id], None)
    assert (before, await photos.get(file_id)) == (None, (b"jpeg-bytes", "image/jpeg"))


async def test_a_photo_of_several_chunks_reads_back_through_the_gridfs_bucket(
    db: AsyncDatabase[Document],
) -> None:
    photos = PhotoStore(db, "photos")
    data = bytes(range(256)) * 2100  # 537,600 bytes: three chunks of GridFS's default size
    file_id = await photos.put_pending(data, "image/jpeg", owner="r1")
    await photos.confirm([file_id], None)
    stream = await photos.bucket.open_download_stream(file_id)
    assert (await stream.read(), stream.length, stream.chunk_size) == (data, len(data), 261120)


async def test_discarding_an_upload_that_stopped_half_way_deletes_its_chunks(
    db: AsyncDatabase[Document],
) -> None:
    photos = PhotoStore(db, "photos")
    await db["photos.chunks"].insert_one({"files_id": "half", "n": 0, "data": b"x"})
    await photos.discard(["half"])
    assert await db["photos.chunks"].count_documents({"files_id": "half"}) == 0


async def test_the_sweeper_deletes_only_photos_still_pending_after_the_grace(
    db: AsyncDatabase[Document],
) -> None:
    photos = PhotoStore(db, "photos")
    kept = await photos.put_pending(b"a", "image/png", owner="r1")
    orphan = await photos.put_pending(b"b", "image/png", owner="r2")
    await photos.confirm([kept], None)
    assert await photos.sweep_once(utcnow() - timedelta(hours=1)) == 0  # still in its grace
    assert await photos.sweep_once(utcnow() + timedelta(seconds=1)) == 1
    assert (await photos.get(kept), await db["photos.files"].count_documents({"_id": orphan})) == (
        (b"a", "image/png"),
        0,
    )


async def test_the_copy_in_memory_is_read_again_only_when_it_ages_out(
    db: AsyncDatabase[Document],
) -> None:
    now = [0.0]
    copy = CatalogCopy(db, max_age_s=60, clock=lambda: now[0])
    await copy.save(_catalog(1), None)
    first = await copy.current()
    await CatalogCopy(db).save(_catalog(2), None)  # another replica stored a newer one
    held = await copy.current()
    now[0] = 61.0
    fresh = await copy.current()
    assert [c and c.version for c in (first, held, fresh)] == [1, 1, 2]


async def test_a_remembered_older_catalogue_does_not_replace_a_newer_one(
    db: AsyncDatabase[Document],
) -> None:
    copy = CatalogCopy(db)
    copy.remember(_catalog(3))
    copy.remember(_catalog(2))
    held = await copy.current()
    assert held is not None
    assert held.version == 3
