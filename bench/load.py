"""The residents: report bodies over the demo city, and the ways the bench posts them.

Reports are spread over the demo jurisdiction's districts (services/routing/data/
demo_jurisdiction.json: its polygons are rectangles) and over the categories intake serves
(GET /api/v1/categories), required attributes filled in, each with a resident email so notify's
email channel and the sealed-contact path are exercised.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.stack import ROOT

JURISDICTION = ROOT / "services" / "routing" / "data" / "demo_jurisdiction.json"


class RateLimited(RuntimeError):
    pass


def city_boxes(path: Path = JURISDICTION) -> list[tuple[float, float, float, float]]:
    """(min lon, min lat, max lon, max lat) of each district of the demo city."""
    doc = json.loads(path.read_text())
    boxes = []
    for area in doc["areas"]:
        if area.get("level") != "district":
            continue
        ring = area["geometry"]["coordinates"][0]
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        boxes.append((min(lons), min(lats), max(lons), max(lats)))
    return boxes or [(107.55, 16.42, 107.62, 16.50)]


def _attribute_value(attr: dict[str, Any]) -> Any:
    kind = attr.get("datatype")
    if kind in ("singlevaluelist", "multivaluelist"):
        key = attr["values"][0]["key"]
        return key if kind == "singlevaluelist" else [key]
    if kind == "number":
        return 20
    if kind == "datetime":
        return "2026-01-01T00:00:00Z"
    return "bench"


@dataclass
class Reports:
    """Makes report bodies; `photo` is a small generated JPEG."""

    categories: list[dict[str, Any]]
    boxes: list[tuple[float, float, float, float]] = field(default_factory=city_boxes)
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    photo: bytes = b""
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    n: int = 0

    def __post_init__(self) -> None:
        if not self.photo:
            self.photo = make_jpeg()

    def body(
        self, where: tuple[float, float] | None = None, category: str | None = None
    ) -> dict[str, Any]:
        self.n += 1
        cat = (
            next(c for c in self.categories if c["code"] == category)
            if category
            else self.rng.choice(self.categories)
        )
        if where is None:
            lon0, lat0, lon1, lat1 = self.rng.choice(self.boxes)
            where = (self.rng.uniform(lat0, lat1), self.rng.uniform(lon0, lon1))
        attrs = {
            a["code"]: _attribute_value(a) for a in cat.get("attributes", []) if a.get("required")
        }
        return {
            "category": cat["code"],
            "lat": round(where[0], 6),
            "lon": round(where[1], 6),
            "description": f"Benchmark report {self.run}-{self.n}",
            "attributes": attrs,
            "contact": {
                "name": "Bench Resident",
                "email": f"bench+{self.run}-{self.n}@example.org",
            },
        }


def make_jpeg(width: int = 640, height: int = 480) -> bytes:
    """A photo-like JPEG (noise over a gradient, about 30-60 KB)."""
    from PIL import Image

    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    img = Image.blend(img, noise, 0.5)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


async def fetch_categories(
    client: httpx.AsyncClient, intake: str, timeout: float = 60
) -> list[dict[str, Any]]:
    """The categories intake serves (waits until routing's catalogue has reached it)."""
    deadline = time.monotonic() + timeout
    while True:
        r = await client.get(intake + "/api/v1/categories", headers={"Accept-Language": "en"})
        if r.status_code == 200:
            body = r.json()
            items = body["items"] if isinstance(body, dict) else body
            if items:
                return list(items)
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"intake serves no categories after {timeout}s: {r.status_code} {r.text[:200]}"
            )
        await asyncio.sleep(0.5)


@dataclass
class Posted:
    id: str
    token: str
    latency: float
    sent_at: float  # monotonic
    photo: bool
    email: str = ""


async def post(
    client: httpx.AsyncClient, intake: str, body: dict[str, Any], photo: bytes | None = None
) -> Posted:
    sent = time.monotonic()
    t0 = time.perf_counter()
    if photo:
        r = await client.post(
            intake + "/api/v1/reports",
            data={"report": json.dumps(body)},
            files=[("photos", ("photo.jpg", photo, "image/jpeg"))],
        )
    else:
        r = await client.post(intake + "/api/v1/reports", json=body)
    latency = time.perf_counter() - t0
    if r.status_code == 429:
        raise RateLimited(
            "intake rate-limited the bench: run the stack with RATE_LIMIT_CREATE_BURST=0 RATE_LIMIT_READ_BURST=0"
        )
    if r.status_code != 201:
        raise RuntimeError(f"POST /api/v1/reports answered {r.status_code}: {r.text[:300]}")
    data = r.json()
    email = str((body.get("contact") or {}).get("email", "")).lower()
    return Posted(data["id"], data["tracking_token"], latency, sent, bool(photo), email)


@dataclass
class LoadResult:
    posted: list[Posted]
    errors: list[str]
    wall: float
    late: int = 0  # open loop: sends that left more than 100 ms after their slot

    @property
    def latencies(self) -> list[float]:
        return [p.latency for p in self.posted]


async def one_client(
    client: httpx.AsyncClient, intake: str, reports: Reports, n: int, photo: bool = False
) -> LoadResult:
    posted, errors = [], []
    t0 = time.perf_counter()
    for _ in range(n):
        try:
            posted.append(
                await post(client, intake, reports.body(), reports.photo if photo else None)
            )
        except RateLimited:
            raise
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    return LoadResult(posted, errors, time.perf_counter() - t0)


async def open_loop(
    client: httpx.AsyncClient,
    intake: str,
    reports: Reports,
    rate: float,
    duration: float,
    photo: bool = False,
    on_posted: Callable[[Posted], Awaitable[None]] | None = None,
) -> LoadResult:
    """Sends `rate` reports a second for `duration` s on a fixed schedule, whatever the answers."""
    posted: list[Posted] = []
    errors: list[str] = []
    late = 0
    tasks: list[asyncio.Task[None]] = []

    async def one() -> None:
        try:
            p = await post(client, intake, reports.body(), reports.photo if photo else None)
        except RateLimited:
            raise
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            return
        posted.append(p)
        if on_posted is not None:
            await on_posted(p)

    start = time.monotonic()
    total = max(1, round(rate * duration))
    for i in range(total):
        slot = start + i / rate
        delay = slot - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.1:
            late += 1
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    return LoadResult(posted, errors, time.monotonic() - start, late)


async def closed_loop(
    client: httpx.AsyncClient, intake: str, reports: Reports, n: int, clients: int
) -> LoadResult:
    """`clients` residents posting back to back until `n` reports are in (the burst)."""
    posted: list[Posted] = []
    errors: list[str] = []
    left = n

    async def resident() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            try:
                posted.append(await post(client, intake, reports.body()))
            except RateLimited:
                raise
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

    t0 = time.perf_counter()
    await asyncio.gather(*(resident() for _ in range(clients)))
    return LoadResult(posted, errors, time.perf_counter() - t0)
