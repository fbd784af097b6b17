"""Idempotency keys of creates, and who supports which report (both unique by `_id`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.intake.domain.idempotency import IdempotencyRecord
from shared.mongo import Document
from shared.retention import Expiry

IDEMPOTENCY = "idempotency_keys"
SUPPORTS = "supports"


def idempotency_expiry(ttl_s: int) -> Expiry:
    """Both collections are read by `_id` only (`supports` needs no other index: each one would
    be written by every support for nothing); keys are deleted `ttl_s` after their create."""
    return Expiry(
        IDEMPOTENCY,
        "created_at",
        timedelta(seconds=ttl_s),
        "idempotency_created_at",
        retired_ttl="idempotency_ttl",
    )


class IdempotencyStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[IDEMPOTENCY]

    async def get(self, key: str) -> IdempotencyRecord | None:
        doc = await self.col.find_one({"_id": key})
        if doc is None:
            return None
        return IdempotencyRecord(
            key=doc["_id"],
            fingerprint=doc["fingerprint"],
            report_id=doc["report_id"],
            token_sealed=doc["token_sealed"],
            created_at=doc["created_at"],
        )

    async def add(
        self, record: IdempotencyRecord, session: AsyncClientSession | None = None
    ) -> bool:
        """False if the key is taken (a concurrent create won; the transaction is spoilt)."""
        doc = {
            "_id": record.key,
            "fingerprint": record.fingerprint,
            "report_id": record.report_id,
            "token_sealed": record.token_sealed,
            "created_at": record.created_at,
        }
        try:
            await self.col.insert_one(doc, session=session)
        except DuplicateKeyError:
            return False
        return True


class SupportStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[SUPPORTS]

    async def add(
        self, report_id: str, client: str, at: datetime, session: AsyncClientSession | None = None
    ) -> bool:
        """False if this client already supports the report."""
        doc = {"_id": f"{report_id}:{client}", "report_id": report_id, "at": at}
        try:
            await self.col.insert_one(doc, session=session)
        except DuplicateKeyError:
            return False
        return True
