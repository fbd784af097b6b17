"""History: N reports stored before measuring, seeded in bulk through the services' own code paths.

Posting 50,000 reports through the pipeline takes hours at today's rates, and writing documents in
a shape the bench invents would measure a database the services never wrote (they are being
rewritten). So the bench clones:

1. posts a few dozen template reports over the demo city through intake's HTTP API, lets routing
   assign them, resolves most of them as the agency's demo staff (routing's HTTP API) and closes
   them with the resident's rating (intake's HTTP API), and waits until every service has settled;
2. reads back, from the four databases, every document that mentions exactly one template's
   report id: whatever each service wrote for that report (report, assignment, sequences, outbox,
   inbox, deliveries, status changes, facts, event log...), in the service's own current shape;
3. bulk-inserts N copies of randomly chosen templates, each copy with fresh ids (every UUID and
   every 32+ hex-digit token is remapped, consistently across the four databases), its times moved
   back (closed reports over the last `days`, open ones less than the earliest deadline they
   carry, so no timer fires on history) and its location moved by up to about 300 m.

A copied document whose TTL field is past its index's expiry is left out (the server would have
deleted it). Documents that are not per report (catalogues, counters over all reports) are not
copied. Consistency of what a service derives from a copy's moved place and times:
- intake's index-only fields (`open_cells`, `upkeep_at`) are recomputed for each copy with
  intake's own derivation (`services.intake.stores.documents.derived_of_document`);
- analytics' rollups (running totals over all facts) are rebuilt from the facts once the copies
  are in, with analytics' own rebuild (`services.analytics.rebuild.rebuild_rollups`), so its
  statistics count the history as intake does;
- routing's and notify's documents keep their services' shapes (ids, times and places remapped).

Speed (`--seed-mode stopped`, the default with an own stack): the services are stopped, the
copies bulk-inserted unordered in batches of `--seed-batch` by `--seed-writers` concurrent
writers, the rollups rebuilt, and the services started on the stored history. `offline` also
drops the copied collections' secondary indexes first and builds them again after: SecantusDB
inserts several times faster without them, but its rebuild over 50,000 reports' history (960,000
documents) did not finish in 23 minutes, while `stopped` inserted them in 21 minutes.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import bson
import httpx
from bson import ObjectId
from pymongo import AsyncMongoClient, IndexModel
from pymongo.errors import BulkWriteError

from bench.load import Reports, post
from shared.retention import Expiry

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX_RE = re.compile(r"(?<![0-9a-f])[0-9a-f]{32,}(?![0-9a-f])")
ISO_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EPOCH_FLOOR = datetime(2000, 1, 1)
Doc = dict[str, Any]


@dataclass
class Template:
    report_id: str
    state: str  # "closed" or "open"
    docs: list[tuple[str, str, Doc]] = field(default_factory=list)  # (db, collection, doc)
    max_back: timedelta = timedelta(days=365)


class Clone:
    """One copy's transformation: id map, time shift and location shift."""

    def __init__(self, shift: timedelta, dlat: float, dlon: float) -> None:
        self.ids: dict[str, str] = {}
        self.oids: dict[ObjectId, ObjectId] = {}
        self.shift = shift
        self.dlat, self.dlon = dlat, dlon

    def _uuid(self, m: re.Match[str]) -> str:
        old = m.group(0)
        if old not in self.ids:
            self.ids[old] = str(uuid.uuid4())
        return self.ids[old]

    def _hex(self, m: re.Match[str]) -> str:
        old = m.group(0)
        if old not in self.ids:
            self.ids[old] = (uuid.uuid4().hex * (len(old) // 32 + 1))[: len(old)]
        return self.ids[old]

    def text(self, s: str, key: str) -> str:
        if len(s) < 10:
            return s
        iso = ISO_RE.match(s)
        if iso:
            try:
                t = datetime.fromisoformat(iso.group(1))
            except ValueError:
                return s
            if t < EPOCH_FLOOR:
                return s
            return (t - self.shift).isoformat(timespec="microseconds") + (iso.group(2) or "")
        if DAY_RE.match(s):
            try:
                d = (datetime.fromisoformat(s) + timedelta(hours=12) - self.shift).date()
            except ValueError:
                return s
            if key.endswith("week"):
                d = d - timedelta(days=d.weekday())
            return d.isoformat()
        s = UUID_RE.sub(self._uuid, s)
        return HEX_RE.sub(self._hex, s)

    def value(self, v: Any, key: str = "") -> Any:
        if isinstance(v, str):
            return self.text(v, key)
        if isinstance(v, dict):
            return self.mapping(v)
        if isinstance(v, list):
            return [self.value(x, key) for x in v]
        if isinstance(v, datetime):
            return v if v < EPOCH_FLOOR else v - self.shift
        if isinstance(v, ObjectId):
            if v not in self.oids:
                self.oids[v] = ObjectId()
            return self.oids[v]
        return v

    def mapping(self, d: Doc) -> Doc:
        out = {k: self.value(v, k) for k, v in d.items()}
        coords = out.get("coordinates")
        if out.get("type") == "Point" and isinstance(coords, list) and len(coords) == 2:
            out["coordinates"] = [round(coords[0] + self.dlon, 6), round(coords[1] + self.dlat, 6)]
        for lat, lon in (("lat", "lon"), ("latitude", "longitude")):
            if isinstance(out.get(lat), float) and isinstance(out.get(lon), float):
                out[lat] = round(out[lat] + self.dlat, 6)
                out[lon] = round(out[lon] + self.dlon, 6)
        return out


# ------------------------------------------------------------------------- templates


async def _staff_token(
    client: httpx.AsyncClient, routing: str, agency: str, cache: dict[str, str]
) -> str | None:
    if agency not in cache:
        r = await client.post(
            routing + "/api/v1/auth/token", data={"username": agency, "password": "demo"}
        )
        if r.status_code != 200:
            return None
        cache[agency] = r.json()["access_token"]
    return cache[agency]


async def _wait_status(
    client: httpx.AsyncClient, intake: str, rid: str, want: set[str], timeout: float
) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = await client.get(f"{intake}/api/v1/reports/{rid}")
        if r.status_code == 200 and r.json().get("status") in want:
            return dict(r.json())
        await asyncio.sleep(0.5)
    return None


async def _make_template(
    client: httpx.AsyncClient,
    urls: dict[str, str],
    body: dict[str, Any],
    close: bool,
    tokens: dict[str, str],
    timeout: float,
) -> Template | None:
    intake, routing = urls["intake"], urls["routing"]
    p = await post(client, intake, body)
    view = await _wait_status(client, intake, p.id, {"assigned"}, timeout)
    if view is None:
        return None
    if not close or not view.get("agency_id"):
        return Template(p.id, "open")
    token = await _staff_token(client, routing, view["agency_id"], tokens)
    if token is None:
        return Template(p.id, "open")
    auth = {"Authorization": f"Bearer {token}"}
    r = await client.get(routing + "/api/v1/assignments", params={"report_id": p.id}, headers=auth)
    items = r.json().get("items", []) if r.status_code == 200 else []
    if not items:
        return Template(p.id, "open")
    r = await client.post(
        f"{routing}/api/v1/assignments/{items[0]['id']}/resolve",
        json={"note": "Đã xử lý"},
        headers=auth,
    )
    if (
        r.status_code != 200
        or await _wait_status(client, intake, p.id, {"resolved"}, timeout) is None
    ):
        return Template(p.id, "open")
    r = await client.post(
        f"{intake}/api/v1/reports/{p.id}/rating",
        json={"rating": 5},
        headers={"X-Tracking-Token": p.token},
    )
    if (
        r.status_code != 200
        or await _wait_status(client, intake, p.id, {"closed"}, timeout) is None
    ):
        return Template(p.id, "open")
    return Template(p.id, "closed")


def _spread_points(reports: Reports, n: int) -> list[tuple[float, float]]:
    """n points over the city, at least ~400 m apart (no template is a duplicate of another)."""
    points: list[tuple[float, float]] = []
    tries = 0
    while len(points) < n and tries < n * 200:
        tries += 1
        lon0, lat0, lon1, lat1 = reports.rng.choice(reports.boxes)
        p = (reports.rng.uniform(lat0, lat1), reports.rng.uniform(lon0, lon1))
        if all(abs(p[0] - q[0]) + abs(p[1] - q[1]) > 0.004 for q in points):
            points.append(p)
    return points


async def _collect(
    mongo: AsyncMongoClient[Doc], dbs: list[str], templates: list[Template]
) -> tuple[str, int]:
    """Fills each template's documents; returns a digest of them and the number left out
    because they mention more than one template."""
    by_id = {t.report_id.encode(): t for t in templates}
    for t in templates:
        t.docs = []
    ambiguous = 0
    digest_parts: list[bytes] = []
    for db in dbs:
        for coll in sorted(await mongo[db].list_collection_names()):
            if coll.startswith("system."):
                continue
            async for doc in mongo[db][coll].find({}):
                raw = bson.encode(doc)
                hits = [t for key, t in by_id.items() if key in raw]
                if len(hits) == 1:
                    hits[0].docs.append((db, coll, doc))
                    digest_parts.append(raw)
                elif len(hits) > 1:
                    ambiguous += 1
    return str(hash(b"".join(sorted(digest_parts)))), ambiguous


async def _settled(mongo: AsyncMongoClient[Doc], templates: list[Template]) -> bool:
    """No outbox entry pending and no delivery waiting, for any template."""
    for t in templates:
        for _db, coll, doc in t.docs:
            if coll == "outbox" and doc.get("status") == "pending":
                return False
            if coll == "deliveries" and doc.get("status") in ("pending", "failed"):
                return False
    return True


async def make_templates(
    client: httpx.AsyncClient,
    mongo: AsyncMongoClient[Doc],
    urls: dict[str, str],
    db_names: dict[str, str],
    reports: Reports,
    n: int,
    open_fraction: float,
    timeout: float = 240,
) -> tuple[list[Template], dict[str, Any]]:
    t0 = time.perf_counter()
    points = _spread_points(reports, n)
    n_open = max(1, round(n * min(max(open_fraction * 4, 0.2), 0.5)))  # enough open ones to vary
    tokens: dict[str, str] = {}
    sem = asyncio.Semaphore(8)

    async def one(i: int, where: tuple[float, float]) -> Template | None:
        async with sem:
            return await _make_template(
                client, urls, reports.body(where), i >= n_open, tokens, timeout
            )

    made = [t for t in await asyncio.gather(*(one(i, p) for i, p in enumerate(points))) if t]
    dbs = [db_names[s] for s in ("intake", "routing", "notify", "analytics")]
    deadline = time.monotonic() + timeout
    previous = ""
    ambiguous = 0
    while time.monotonic() < deadline:
        digest, ambiguous = await _collect(mongo, dbs, made)
        if digest == previous and await _settled(mongo, made):
            break
        previous = digest
        await asyncio.sleep(3)
    now = datetime.utcnow()
    for t in made:
        futures = [v - now for _db, _c, doc in t.docs for v in _datetimes(doc) if v > now]
        limit = min(futures, default=timedelta(days=365)) - timedelta(hours=1)
        t.max_back = max(timedelta(0), min(limit, timedelta(days=365)))
    info = {
        "templates": len(made),
        "templates_closed": sum(t.state == "closed" for t in made),
        "templates_open": sum(t.state == "open" for t in made),
        "docs_per_template": round(sum(len(t.docs) for t in made) / max(1, len(made)), 1),
        "docs_left_out_ambiguous": ambiguous,
        "template_s": round(time.perf_counter() - t0, 1),
    }
    return made, info


def _datetimes(v: Any) -> list[datetime]:
    if isinstance(v, datetime):
        return [v] if v >= EPOCH_FLOOR else []
    if isinstance(v, dict):
        return [d for x in v.values() for d in _datetimes(x)]
    if isinstance(v, list):
        return [d for x in v for d in _datetimes(x)]
    return []


# ------------------------------------------------------------------------- cloning


def ttls_of(db_names: dict[str, str]) -> dict[tuple[str, str], tuple[str, float]]:
    """What each service keeps only for a while (`shared.retention`), as (field, seconds) by
    (database, collection): a copy already past it is left out, as the services' sweep would
    delete it. Intake's idempotency keys at the setting's default, as the bench's stack runs."""
    from services.intake.settings import IntakeSettings
    from services.intake.stores import idempotency_expiry
    from services.routing.stores import LOGIN_EXPIRY
    from shared.batch import INBOX_EXPIRY
    from shared.outbox import OUTBOX_EXPIRY

    ttl_s = IntakeSettings.model_fields["idempotency_ttl_s"].default
    by_service: dict[str, list[Expiry]] = {
        "intake": [INBOX_EXPIRY, OUTBOX_EXPIRY, idempotency_expiry(ttl_s)],
        "routing": [INBOX_EXPIRY, OUTBOX_EXPIRY, LOGIN_EXPIRY],
        "notify": [INBOX_EXPIRY],
        "analytics": [INBOX_EXPIRY],
    }
    return {
        (db_names[svc], e.collection): (e.field, e.keep.total_seconds())
        for svc, expiries in by_service.items()
        for e in expiries
    }


async def clone_history(
    mongo: AsyncMongoClient[Doc],
    templates: list[Template],
    n: int,
    open_fraction: float,
    days: float,
    seed: int = 11,
    batch: int = 2000,
    writers: int = 4,
    progress: Callable[[str], None] | None = None,
    ttls: dict[tuple[str, str], tuple[str, float]] | None = None,
    rederive: dict[tuple[str, str], Callable[[Doc], None]] | None = None,
) -> dict[str, Any]:
    """Inserts n copies of the templates; returns counts per collection and the time taken.

    Copies are made here (fast: ~30,000 documents/s) while `writers` tasks insert full batches
    of `batch` documents, unordered, into their collections concurrently: the database's insert
    rate is the limit, and it takes several collections' batches at once better than one.
    `ttls`: the collections' expiring fields and their expiries (`ttls_of`; none if not given).
    `rederive`: per collection, what recomputes a copy's derived fields in place."""
    rng = random.Random(seed)
    closed = [t for t in templates if t.state == "closed"] or templates
    opened = [t for t in templates if t.state == "open"] or templates
    ttls = ttls or {}
    now = datetime.utcnow()
    pending: dict[tuple[str, str], list[Doc]] = defaultdict(list)
    inserted: dict[str, int] = defaultdict(int)
    expired = dupes = 0
    failures: list[BaseException] = []
    queue: asyncio.Queue[tuple[tuple[str, str], list[Doc]] | None] = asyncio.Queue(writers * 2)
    t0 = time.perf_counter()

    async def writer() -> None:
        nonlocal dupes
        while (item := await queue.get()) is not None:
            (db, coll), docs = item
            try:
                res = await mongo[db][coll].insert_many(docs, ordered=False)
                inserted[f"{db}.{coll}"] += len(res.inserted_ids)
            except BulkWriteError as exc:
                inserted[f"{db}.{coll}"] += exc.details.get("nInserted", 0)
                dupes += len(exc.details.get("writeErrors", []))
            except (
                Exception
            ) as exc:  # keep taking batches (the producer must not block), fail after
                failures.append(exc)

    tasks = [asyncio.create_task(writer()) for _ in range(max(1, writers))]
    next_note = time.monotonic() + 30
    try:
        for i in range(n):
            is_open = rng.random() < open_fraction
            t = rng.choice(opened if is_open else closed)
            span = min(t.max_back, timedelta(days=days)) if is_open else timedelta(days=days)
            shift = timedelta(seconds=rng.uniform(0, span.total_seconds()))
            clone = Clone(shift, rng.uniform(-0.0027, 0.0027), rng.uniform(-0.0027, 0.0027))
            for db, coll, doc in t.docs:
                new = clone.mapping(doc)
                if rederive and (fix := rederive.get((db, coll))) is not None:
                    fix(new)
                ttl = ttls.get((db, coll))
                if ttl:
                    at = new.get(ttl[0])
                    if isinstance(at, datetime) and at < now - timedelta(seconds=ttl[1]):
                        expired += 1
                        continue
                pending[(db, coll)].append(new)
                if len(pending[(db, coll)]) >= batch:
                    await queue.put(((db, coll), pending.pop((db, coll))))
            if progress is not None and time.monotonic() >= next_note:
                next_note = time.monotonic() + 30
                done = sum(inserted.values())
                progress(
                    f"  {i + 1:,}/{n:,} reports copied, {done:,} documents stored "
                    f"({done / (time.perf_counter() - t0):,.0f}/s)"
                )
        for key in list(pending):
            await queue.put((key, pending.pop(key)))
        for _ in tasks:
            await queue.put(None)
        await asyncio.gather(*tasks)
        if failures:
            raise failures[0]
    finally:
        for task in tasks:
            task.cancel()
    took = time.perf_counter() - t0
    total = sum(inserted.values())
    return {
        "history": n,
        "docs_inserted": dict(sorted(inserted.items())),
        "docs_total": total,
        "docs_per_report": round(total / n, 1) if n else 0,
        "docs_skipped_expired": expired,
        "duplicate_key_errors": dupes,
        "clone_s": round(took, 1),
        "docs_per_s": round(total / took) if took else None,
        "batch": batch,
        "writers": writers,
    }


def intake_derived(doc: Doc) -> None:
    """A copied intake report's index-only fields for its moved place and times, with intake's
    own derivation (a field the report's state has none of is removed)."""
    from services.intake.stores.documents import derived_of_document

    for key, value in derived_of_document(doc).items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value


def rederivations(db_names: dict[str, str]) -> dict[tuple[str, str], Callable[[Doc], None]]:
    return {(db_names["intake"], "reports"): intake_derived}


async def rebuild_rollups(mongodb_uri: str, analytics_db: str) -> int:
    """Analytics' rollups anew from its facts (copies included), with analytics' own rebuild;
    returns the number of facts. Run while no event flows (it is not one transaction)."""
    from services.analytics.rebuild import rebuild_rollups as rebuild
    from services.analytics.settings import AnalyticsSettings

    return await rebuild(AnalyticsSettings(mongodb_uri=mongodb_uri, mongodb_db=analytics_db))


# ------------------------------------------------------------------------- bulk load


def collections_of(templates: list[Template]) -> set[tuple[str, str]]:
    """The (database, collection) pairs the copies go to."""
    return {(db, coll) for t in templates for db, coll, _ in t.docs}


async def drop_secondary_indexes(
    mongo: AsyncMongoClient[Doc],
    where: set[tuple[str, str]],
    specs: dict[tuple[str, str], list[Doc]],
) -> None:
    """Drops every index but `_id` of these collections, noting in `specs` (before each drop)
    what to build again (`rebuild_indexes`). Only while no service runs: their queries and
    unique guards need them."""
    for db, coll in sorted(where):
        col = mongo[db][coll]
        found = [dict(ix) async for ix in await col.list_indexes()]
        specs[(db, coll)] = [ix for ix in found if ix.get("name") != "_id_"]
        for ix in specs[(db, coll)]:
            await col.drop_index(ix["name"])


def index_models(specs: list[Doc]) -> list[IndexModel]:
    """`listIndexes` entries back into the models that create them (same name and options)."""
    models = []
    for ix in specs:
        options = {k: v for k, v in ix.items() if k not in ("v", "key", "ns")}
        models.append(IndexModel(list(dict(ix["key"]).items()), **options))
    return models


async def rebuild_indexes(
    mongo: AsyncMongoClient[Doc], specs: dict[tuple[str, str], list[Doc]], concurrency: int = 4
) -> float:
    """Builds the dropped indexes again, several collections at once; returns the seconds."""
    t0 = time.perf_counter()
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(db: str, coll: str, ixs: list[Doc]) -> None:
        if not ixs:
            return
        async with sem:
            await mongo[db][coll].create_indexes(index_models(ixs))

    await asyncio.gather(*(one(db, coll, ixs) for (db, coll), ixs in specs.items()))
    return time.perf_counter() - t0
