"""Filing a report: catalogue check, photos (pending until the report commits), idempotent
retries keyed by the client's Idempotency-Key and possible duplicates."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.intake.domain import rules
from services.intake.domain.catalog import validate_attributes
from services.intake.domain.errors import IdempotencyConflict, PhotoRejected
from services.intake.domain.idempotency import (
    Decision,
    IdempotencyRecord,
    decide,
    fingerprint,
    scoped_key,
)
from services.intake.domain.photos import CleanPhoto, sanitize
from services.intake.domain.report import (
    Nearby,
    Photo,
    Report,
    ReportDraft,
    created_payload,
    new_report,
)
from services.intake.metrics import IntakeMetrics
from shared.crypto import PiiBox
from shared.events import ReportCreatedV1, Topic, TriageV1
from shared.uow import Transactions, UnitOfWork

from .ports import IdempotencyKeys, Photos, Reports
from .queries import Queries
from .triage import Triage, triage_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Created:
    report: Report
    tracking_token: str
    possible_duplicates: list[Nearby]
    replayed: bool = False


@dataclass(frozen=True)
class PhotoRules:
    max_count: int
    max_bytes: int
    max_pixels: int
    thumb_px: int


class _KeyRaced(Exception):
    """A concurrent create with the same Idempotency-Key committed first."""


class FileReport:
    def __init__(
        self,
        transactions: Transactions,
        reports: Reports,
        keys: IdempotencyKeys,
        photos: Photos,
        queries: Queries,
        box: PiiBox,
        metrics: IntakeMetrics,
        clock: Callable[[], datetime],
        *,
        photo_rules: PhotoRules,
        public_base_url: str,
        duplicate_radius_m: float,
        triage: Triage | None = None,
    ) -> None:
        self.transactions = transactions
        self.reports = reports
        self.keys = keys
        self.photos = photos
        self.queries = queries
        self.box = box
        self.metrics = metrics
        self.clock = clock
        self.photo_rules = photo_rules
        self.base_url = public_base_url.rstrip("/")
        self.duplicate_radius_m = duplicate_radius_m
        self.triage = triage  # None: no model, a category is required

    async def __call__(
        self,
        draft: ReportDraft,
        raw_photos: Sequence[bytes] = (),
        *,
        channel: str,
        idempotency_key: str | None = None,
        client: str = "",
    ) -> Created:
        """`idempotency_key` is scoped to `client` (see `domain.idempotency.client_identity`)."""
        photos = [await self._sanitize(raw) for raw in raw_photos]
        catalog = await self.queries.catalog()
        if draft.category is not None:
            catalog.require(draft.category)  # an unknown category is refused before the model
        opinion = (
            self.triage.opinion(draft.description, draft.category, catalog) if self.triage else None
        )
        category = catalog.require((opinion.chosen if opinion else draft.category) or "")
        attributes = validate_attributes(category, draft.attributes)
        digests = [hashlib.sha256(raw).hexdigest() for raw in raw_photos]
        # the request as sent (with or without its category) identifies a retry
        fp = fingerprint(replace(draft, attributes=attributes).fingerprint_body(digests))
        draft = replace(draft, category=category.code, attributes=attributes)
        key = scoped_key(client, idempotency_key) if idempotency_key else None
        if key and (replay := await self._replay(key, fp)):
            return replay
        found = await self.reports.nearby(
            draft.lat, draft.lon, self.duplicate_radius_m, draft.category, 5
        )
        duplicates = rules.with_distances(draft.lat, draft.lon, found)
        triage = triage_payload(opinion) if opinion else None
        created = await self._file(draft, category.name, photos, channel, key, fp, triage)
        if created.replayed:
            return created
        self.metrics.created.labels(channel, draft.code).inc()
        log.info(
            "report received",
            extra={"report_id": created.report.id, "category": draft.category, "channel": channel},
        )
        return replace(created, possible_duplicates=duplicates)

    def photo_refused(self, exc: PhotoRejected) -> None:
        """Counts a refused photo (also called by the edge for the refusals of its upload caps)."""
        self.metrics.photo_rejections.labels(exc.reason).inc()

    async def _sanitize(self, raw: bytes) -> CleanPhoto:
        r = self.photo_rules
        try:
            # decoding and re-encoding is CPU work: keep it off the event loop
            return await asyncio.to_thread(
                sanitize, raw, max_pixels=r.max_pixels, thumb_px=r.thumb_px
            )
        except PhotoRejected as exc:
            self.photo_refused(exc)
            raise

    async def _file(
        self,
        draft: ReportDraft,
        category_name: dict[str, str],
        photos: list[CleanPhoto],
        channel: str,
        key: str | None,
        fp: str,
        triage: TriageV1 | None = None,
    ) -> Created:
        """Stores the photos pending, then the report, its key record, the photos' confirmation
        and report.created in one unit of work; a lost key race answers the winner's report."""
        report_id, token, now = str(uuid.uuid4()), rules.new_tracking_token(), self.clock()
        uploaded: list[str] = []
        try:
            # GridFS cannot join a transaction: the files are written first, marked pending, and
            # the report's transaction confirms them. Whatever stops the create from here on
            # discards them; a crash leaves them to the sweeper (`Upkeep.sweep_photos_once`).
            stored = await self._store_photos(report_id, photos, uploaded)
            announcement = self._announcement(report_id, draft, channel, now, stored, triage)
            report = new_report(
                report_id,
                draft,
                category_name=category_name,
                token_hash=rules.token_hash(token),
                photos=stored,
                announcement=announcement,
            )
            record = None
            if key:
                sealed = self.box.seal(token, aad=f"idem:{key}")
                record = IdempotencyRecord(key, fp, report_id, sealed, now)

            async def work(uow: UnitOfWork) -> None:
                if record and not await self.keys.add(record, uow.session):
                    raise _KeyRaced
                await self.reports.insert(report, uow.session)
                await self.photos.confirm(uploaded, uow.session)
                # the report's first own event: its counter starts here (no counter round trip)
                await uow.emit(
                    Topic.REPORT_CREATED, report_id, announcement, sequence=report.sequence
                )

            await self.transactions.run(work)
        except _KeyRaced:
            await self.photos.discard(uploaded)
            replay = await self._replay(key or "", fp)
            if replay is None:
                raise
            return replay
        except BaseException:
            await self.photos.discard(uploaded)
            raise
        return Created(report, token, [])

    def _announcement(
        self,
        report_id: str,
        draft: ReportDraft,
        channel: str,
        now: datetime,
        photos: tuple[Photo, ...],
        triage: TriageV1 | None = None,
    ) -> ReportCreatedV1:
        """report.created: photo URLs (stored, then the client's own), the contact sealed for
        notify (aad = report id)."""
        return created_payload(
            report_id,
            draft,
            created_at=now,
            channel=channel,
            photo_urls=[self.photo_url(p.id) for p in photos]
            + ([draft.media_url] if draft.media_url else []),
            contact_sealed=(
                self.box.seal(draft.contact.sealable(draft.language), aad=report_id)
                if draft.contact
                else None
            ),
            triage=triage,
        )

    async def _store_photos(
        self, report_id: str, photos: list[CleanPhoto], uploaded: list[str]
    ) -> tuple[Photo, ...]:
        """Uploads each photo and its thumbnail (pending), appending each file id to `uploaded`
        as it goes so a failure half-way still knows what to discard."""
        stored: list[Photo] = []
        for clean in photos:
            photo = Photo(uuid.uuid4().hex, clean.content_type, clean.width, clean.height)
            full, thumb = photo.file_ids
            uploaded.append(full)
            await self.photos.put_pending(clean.data, clean.content_type, report_id, full)
            uploaded.append(thumb)
            await self.photos.put_pending(clean.thumb, clean.content_type, report_id, thumb)
            stored.append(photo)
        return tuple(stored)

    async def _replay(self, key: str, fp: str) -> Created | None:
        record = await self.keys.get(key)
        decision = decide(record, fp)
        if decision is Decision.NEW or record is None:
            return None
        if decision is Decision.CONFLICT:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used with a different request"
            )
        report = await self.reports.get(record.report_id)
        if report is None:
            return None
        self.metrics.idempotent_replays.inc()
        token = str(self.box.open(record.token_sealed, aad=f"idem:{key}"))
        return Created(report, token, [], replayed=True)

    def photo_url(self, photo_id: str) -> str:
        """The absolute URL of a photo: always from `PUBLIC_BASE_URL`, never a request's Host."""
        return f"{self.base_url}/api/v1/photos/{photo_id}"
