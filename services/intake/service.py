"""Intake's use cases: each one reads, decides with the domain, and writes the report together
with its outbox events in one transaction."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from services.intake.domain import rules
from services.intake.domain.catalog import Catalog, validate_attributes
from services.intake.domain.errors import Conflict, Forbidden, NotFound, Unavailable
from services.intake.domain.idempotency import Decision, decide, fingerprint, scoped_key
from services.intake.domain.photos import CleanPhoto
from services.intake.domain.report import ReportDraft, created_payload, new_document
from services.intake.settings import IntakeSettings
from services.intake.store import Store
from shared.crypto import PiiBox
from shared.events import (
    GeoPoint,
    ReportClosedV1,
    ReportCreatedV1,
    ReportRatedV1,
    ReportReopenedV1,
    ReportSupportedV1,
    Status,
    Topic,
    utcnow,
)
from shared.mongo import Document, in_transaction
from shared.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Created:
    report: Document
    tracking_token: str
    possible_duplicates: list[Document]
    replayed: bool = False


class IntakeMetrics:
    def __init__(self, runtime: Runtime) -> None:
        r = runtime.metrics.registry
        self.created = Counter(
            "intake_reports_created_total",
            "Reports created, by channel and category",
            ["channel", "category"],
            registry=r,
        )
        self.photo_rejections = Counter(
            "intake_photo_rejections_total", "Photos refused, by reason", ["reason"], registry=r
        )
        self.idempotent_replays = Counter(
            "intake_idempotent_replays_total",
            "Creates answered from an Idempotency-Key",
            registry=r,
        )
        self.rate_limited = Counter(
            "intake_rate_limited_total", "Creates refused by the per-client rate limit", registry=r
        )
        self.reannounced = Counter(
            "intake_reports_reannounced_total",
            "report.created re-published by the reconciler",
            registry=r,
        )
        self.photos_swept = Counter(
            "intake_orphan_photos_deleted_total",
            "Pending photo files deleted because their report was never committed",
            registry=r,
        )
        self.autoclosed = Counter(
            "intake_reports_autoclosed_total",
            "Resolved reports closed without a rating",
            registry=r,
        )


class Intake:
    def __init__(self, runtime: Runtime, store: Store, settings: IntakeSettings) -> None:
        self.rt = runtime
        self.store = store
        self.settings = settings
        self.box = PiiBox(settings.pii_key)
        self.metrics = IntakeMetrics(runtime)

    async def catalog(self) -> Catalog:
        catalog = await self.store.catalog()
        if catalog is None:
            raise Unavailable(
                "the category catalogue has not reached intake yet (routing publishes it on "
                "jurisdiction.catalog); retry shortly",
                code="catalog_unavailable",
            )
        return catalog

    # ------------------------------------------------------------------ create

    async def create(
        self,
        draft: ReportDraft,
        photos: list[CleanPhoto],
        *,
        channel: str,
        idempotency_key: str | None = None,
        client: str = "",
        photo_digests: list[str] | None = None,
    ) -> Created:
        """`idempotency_key` is scoped to `client` (see `domain.idempotency.client_identity`)."""
        catalog = await self.catalog()
        category = catalog.require(draft.category)
        draft = _with_attributes(draft, validate_attributes(category, draft.attributes))
        fp = fingerprint(draft.fingerprint_body(photo_digests or []))
        idem_id = scoped_key(client, idempotency_key) if idempotency_key else None
        if idem_id:
            replay = await self._replay(idem_id, fp)
            if replay:
                return replay
        duplicates = await self.nearby(
            draft.lat, draft.lon, self.settings.duplicate_radius_m, draft.category, limit=5
        )
        report_id = str(uuid.uuid4())
        token = rules.new_tracking_token()
        now = utcnow()
        stored_photos: list[dict[str, Any]] = []
        try:
            # GridFS cannot join a transaction: the files are written first, marked pending, and
            # the report's transaction confirms them (see Store.put_photo). Whatever stops the
            # create from here on discards them; a crash leaves them to `sweep_photos_once`.
            await self._store_photos(report_id, photos, stored_photos)
            payload = created_payload(
                report_id,
                draft,
                created_at=now,
                channel=channel,
                photo_urls=[self.photo_url(p["id"]) for p in stored_photos]
                + ([draft.media_url] if draft.media_url else []),
                contact_sealed=(
                    self.box.seal(draft.contact.sealable(draft.language), aad=report_id)
                    if draft.contact
                    else None
                ),
            )
            doc = new_document(
                report_id,
                draft,
                category_name=dict(category.name),
                created_at=now,
                channel=channel,
                token_hash=rules.token_hash(token),
                photos=stored_photos,
                payload=payload,
            )

            async def work(session: AsyncClientSession) -> None:
                if idem_id:
                    await self.store.add_idempotency(
                        {
                            "_id": idem_id,
                            "fingerprint": fp,
                            "report_id": report_id,
                            # sealed so a retry can be given the token it never received
                            "token_sealed": self.box.seal(token, aad=f"idem:{idem_id}"),
                            "created_at": now,
                        },
                        session,
                    )
                await self.store.insert(doc, session)
                await self.store.confirm_photos(_file_ids(stored_photos), session)
                await self.rt.outbox.add(session, Topic.REPORT_CREATED, report_id, payload)

            await in_transaction(self.rt.client, work)
        except DuplicateKeyError:
            await self._discard_photos(stored_photos)
            if idem_id:  # a concurrent create with the same key won the race
                replay = await self._replay(idem_id, fp)
                if replay:
                    return replay
            raise
        except BaseException:
            await self._discard_photos(stored_photos)
            raise
        self.rt.outbox.poke()
        self.metrics.created.labels(channel, draft.category).inc()
        log.info(
            "report received",
            extra={"report_id": report_id, "category": draft.category, "channel": channel},
        )
        return Created(doc, token, [d for d in duplicates if d["_id"] != report_id])

    async def _replay(self, idem_id: str, fp: str) -> Created | None:
        record = await self.store.idempotency_record(idem_id)
        decision = decide(record, fp)
        if decision is Decision.NEW or record is None:
            return None
        if decision is Decision.CONFLICT:
            raise Conflict(
                "this Idempotency-Key was already used with a different request",
                code="idempotency_conflict",
            )
        doc = await self.store.get(record["report_id"])
        if doc is None:
            return None
        self.metrics.idempotent_replays.inc()
        token = str(self.box.open(record["token_sealed"], aad=f"idem:{idem_id}"))
        return Created(doc, token, [], replayed=True)

    async def _store_photos(
        self, report_id: str, photos: list[CleanPhoto], stored: list[dict[str, Any]]
    ) -> None:
        """Uploads each photo and its thumbnail (pending), appending to `stored` as it goes so a
        failure half-way still knows what to discard."""
        for photo in photos:
            pid = uuid.uuid4().hex
            stored.append({"id": pid})
            await self.store.put_photo(pid, photo.data, photo.content_type, report_id)
            await self.store.put_photo(f"{pid}-thumb", photo.thumb, photo.content_type, report_id)
            stored[-1].update(
                {
                    "id": pid,
                    "content_type": photo.content_type,
                    "width": photo.width,
                    "height": photo.height,
                }
            )

    async def _discard_photos(self, stored: list[dict[str, Any]]) -> None:
        """Best effort: deletes the pending files of a create that did not commit (the sweeper
        catches what this misses, e.g. a crash)."""
        for file_id in _file_ids(stored):
            try:
                await self.store.delete_pending_photo(file_id)
            except Exception as exc:
                log.warning("could not discard pending photo %s: %r", file_id, exc)

    async def sweep_photos_once(self, now: datetime | None = None) -> int:
        """Deletes photos still pending a grace period after upload: their create never
        committed (it failed, was refused, lost an idempotency race, or the process died)."""
        now = now or utcnow()
        before = now - timedelta(seconds=self.settings.photo_pending_grace_s)
        count = 0
        for file in await self.store.pending_photos(before):
            if await self.store.delete_pending_photo(file["_id"]):
                count += 1
        if count:
            self.metrics.photos_swept.inc(count)
            log.info("deleted %d orphan photo files", count)
        return count

    def photo_url(self, photo_id: str) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/api/v1/photos/{photo_id}"

    # ------------------------------------------------------------------ queries

    async def get(self, report_id: str) -> Document:
        doc = await self.store.get(report_id)
        if doc is None:
            raise NotFound(f"report {report_id} not found")
        return doc

    async def tracked(self, report_id: str, token: str | None) -> Document:
        doc = await self.get(report_id)
        if not rules.token_matches(token, doc.get("token_hash")):
            raise Forbidden("a valid tracking token is required", code="invalid_token")
        return doc

    async def nearby(
        self, lat: float, lon: float, radius_m: float, category: str | None, *, limit: int = 50
    ) -> list[Document]:
        docs = await self.store.nearby(
            lat,
            lon,
            radius_m,
            category=category,
            open_statuses=[s.value for s in rules.OPEN],
            limit=limit,
        )
        for d in docs:
            d["distance_m"] = round(rules.distance_m(lat, lon, d["lat"], d["lon"]), 1)
        return docs

    # ------------------------------------------------------------------ resident actions

    async def rate(
        self, report_id: str, token: str | None, rating: int, comment: str | None
    ) -> Document:
        await self.tracked(report_id, token)
        now = utcnow()

        async def work(session: AsyncClientSession) -> None:
            doc = await self.store.get(report_id, session)
            assert doc is not None
            rules.check_can_rate(doc["status"])
            rated = await self.rt.outbox.add(
                session,
                Topic.REPORT_RATED,
                report_id,
                ReportRatedV1(report_id=report_id, rating=rating, comment=comment, at=now),
            )
            closed = await self.rt.outbox.add(
                session,
                Topic.REPORT_CLOSED,
                report_id,
                ReportClosedV1(report_id=report_id, reason="rated", at=now),
            )
            await self.store.update(
                report_id,
                {
                    "status": Status.CLOSED.value,
                    "status_at": now,
                    "updated_at": now,
                    "rating": {"rating": rating, "comment": comment, "at": now},
                },
                session,
                timeline=[
                    _own_entry(rated.id, Topic.REPORT_RATED, None, now, f"rating {rating}/5"),
                    _own_entry(closed.id, Topic.REPORT_CLOSED, Status.CLOSED, now, "rated"),
                ],
            )

        await in_transaction(self.rt.client, work)
        self.rt.outbox.poke()
        return await self.get(report_id)

    async def reopen(self, report_id: str, token: str | None, reason: str) -> Document:
        await self.tracked(report_id, token)
        now = utcnow()

        async def work(session: AsyncClientSession) -> None:
            doc = await self.store.get(report_id, session)
            assert doc is not None
            rules.check_can_reopen(doc["status"])
            event = await self.rt.outbox.add(
                session,
                Topic.REPORT_REOPENED,
                report_id,
                ReportReopenedV1(
                    report_id=report_id,
                    reason=reason,
                    at=now,
                    category=doc["category"],
                    location=GeoPoint(lat=doc["lat"], lon=doc["lon"]),
                ),
            )
            await self.store.update(
                report_id,
                {
                    "status": Status.RECEIVED.value,
                    "status_at": now,
                    "updated_at": now,
                    "announced_at": now,
                    "resolved_at": None,
                    "overdue": False,
                },
                session,
                timeline=[
                    _own_entry(event.id, Topic.REPORT_REOPENED, Status.RECEIVED, now, reason)
                ],
                inc={"reopen_count": 1},
            )

        await in_transaction(self.rt.client, work)
        self.rt.outbox.poke()
        return await self.get(report_id)

    async def support(self, report_id: str, client_fingerprint: str) -> Document:
        await self.get(report_id)
        now = utcnow()
        client = hashlib.sha256(client_fingerprint.encode()).hexdigest()[:32]

        async def work(session: AsyncClientSession) -> None:
            doc = await self.store.get(report_id, session)
            assert doc is not None
            rules.check_can_support(doc["status"])
            try:
                await self.store.add_support(report_id, client, now, session)
            except DuplicateKeyError as exc:
                raise Conflict(
                    "this client already supports the report", code="already_supported"
                ) from exc
            await self.store.update(report_id, {"updated_at": now}, session, inc={"supporters": 1})
            await self.rt.outbox.add(
                session,
                Topic.REPORT_SUPPORTED,
                report_id,
                ReportSupportedV1(
                    report_id=report_id, supporters=int(doc["supporters"]) + 1, at=now
                ),
            )

        await in_transaction(self.rt.client, work)
        self.rt.outbox.poke()
        return await self.get(report_id)

    # ------------------------------------------------------------------ background jobs

    async def reconcile_once(self, now: datetime | None = None) -> int:
        """Re-announces reports still `received` long after their last announcement."""
        now = now or utcnow()
        before = now - timedelta(seconds=self.settings.reconcile_after_s)
        count = 0
        for stale in await self.store.stale_received(before):
            rid = stale["_id"]

            async def work(session: AsyncClientSession, rid: str = rid) -> bool:
                doc = await self.store.get(rid, session)
                if not doc or doc["status"] != Status.RECEIVED or doc["announced_at"] > before:
                    return False
                payload = ReportCreatedV1.model_validate(doc["created_payload"])
                await self.rt.outbox.add(session, Topic.REPORT_CREATED, rid, payload)
                await self.store.update(rid, {"announced_at": now}, session)
                return True

            if await in_transaction(self.rt.client, work):
                count += 1
        if count:
            self.rt.outbox.poke()
            self.metrics.reannounced.inc(count)
            log.info("re-announced %d reports still received", count)
        return count

    async def autoclose_once(self, now: datetime | None = None) -> int:
        """Closes reports resolved long ago that the resident never rated."""
        now = now or utcnow()
        before = now - timedelta(days=self.settings.autoclose_after_days)
        count = 0
        for old in await self.store.resolved_before(before):
            rid = old["_id"]

            async def work(session: AsyncClientSession, rid: str = rid) -> bool:
                doc = await self.store.get(rid, session)
                if not doc or doc["status"] != Status.RESOLVED or doc["resolved_at"] > before:
                    return False
                event = await self.rt.outbox.add(
                    session,
                    Topic.REPORT_CLOSED,
                    rid,
                    ReportClosedV1(report_id=rid, reason="auto", at=now),
                )
                await self.store.update(
                    rid,
                    {"status": Status.CLOSED.value, "status_at": now, "updated_at": now},
                    session,
                    timeline=[
                        _own_entry(event.id, Topic.REPORT_CLOSED, Status.CLOSED, now, "auto")
                    ],
                )
                return True

            if await in_transaction(self.rt.client, work):
                count += 1
        if count:
            self.rt.outbox.poke()
            self.metrics.autoclosed.inc(count)
        return count


def _with_attributes(draft: ReportDraft, attributes: dict[str, Any]) -> ReportDraft:
    return replace(draft, attributes=attributes)


def _file_ids(stored: list[dict[str, Any]]) -> list[str]:
    return [name for p in stored for name in (p["id"], f"{p['id']}-thumb")]


def _own_entry(
    event_id: str, type_: str, status: Status | None, at: datetime, note: str | None
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": type_,
        "status": status.value if status else None,
        "at": at,
        "agency_id": None,
        "agency_name": None,
        "note": note,
        "recorded_at": at,
    }
