"""MongoDB connection (PyMongo's native asyncio API) and idempotent index creation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from shared.settings import ServiceSettings

Document = dict[str, Any]
T = TypeVar("T")

# "An index with the same name already exists" in its two forms (mongod, and SecantusDB's
# re-creation of an existing 2dsphere index).
_INDEX_EXISTS_CODES = {85, 86}
_INDEX_NOT_FOUND = 27


def to_millis(at: datetime) -> datetime:
    """`at` to the millisecond, as MongoDB keeps dates, so stored and in-memory times agree."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def utcnow_ms() -> datetime:
    return to_millis(datetime.now(UTC))


def make_client(settings: ServiceSettings) -> AsyncMongoClient[Document]:
    """Lazy client: it connects on first use, so a service starts while MongoDB is down."""
    return AsyncMongoClient(
        settings.mongodb_uri,
        serverSelectionTimeoutMS=settings.mongodb_timeout_ms,
        connectTimeoutMS=settings.mongodb_timeout_ms,
        tz_aware=True,
        appname=settings.service_name,
    )


async def ensure_indexes(
    db: AsyncDatabase[Document],
    indexes: Mapping[str, Sequence[IndexModel]],
    retired: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Creates indexes, tolerating ones that already exist on both mongod and SecantusDB; drops
    the `retired` ones (by collection, index names) a previous version created."""
    retired = retired or {}
    names = await db.list_collection_names()
    for collection in {**retired, **indexes}:  # each collection's indexes read once
        existing = await db[collection].index_information() if collection in names else {}
        for name in retired.get(collection, ()):
            if name in existing:
                try:
                    await db[collection].drop_index(name)
                except OperationFailure as exc:
                    if exc.code != _INDEX_NOT_FOUND:  # another replica dropped it first
                        raise
        for model in indexes.get(collection, ()):
            if model.document["name"] in existing:
                continue
            try:
                await db[collection].create_indexes([model])
            except OperationFailure as exc:
                if exc.code not in _INDEX_EXISTS_CODES:
                    raise


async def in_transaction(
    client: AsyncMongoClient[Document], work: Callable[[AsyncClientSession], Awaitable[T]]
) -> T:
    """Runs `work` in one transaction, retried on transient errors (the driver's documented way)."""
    async with client.start_session() as session:
        return await session.with_transaction(work)


async def ping(client: AsyncMongoClient[Document]) -> bool:
    try:
        await client.admin.command("ping")
    except Exception:
        return False
    return True
