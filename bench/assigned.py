"""POST -> `assigned` latency, read the way a resident's app reads it: intake's public view."""

from __future__ import annotations

import asyncio
import time

import httpx

from bench.load import Posted


class AssignedTracker:
    """POST -> `assigned` as intake's public view shows it, for every report of a load at once.

    Each tick reads all the reports still waiting in one Open311 request per 50
    (`GET /open311/v2/requests.json?service_request_id=a,b,...`, the spec's read of several
    requests). A report is assigned when its `agency_responsible` is set: intake sets it with
    the status, from routing's answer (an agency's or the IOC's triage queue). One GET per report
    per tick instead was about 80 requests a second at 10 reports/s, an observer costing a
    fifth of the database's work and more of intake's than the load it measured.
    """

    CHUNK = 50

    def __init__(self, client: httpx.AsyncClient, intake: str, interval: float) -> None:
        self.client = client
        self.url = f"{intake}/open311/v2/requests.json"
        self.interval = interval
        self.waiting: dict[str, Posted] = {}
        self.took: dict[str, float] = {}

    def add(self, p: Posted) -> None:
        self.waiting[p.id] = p

    async def _tick(self) -> None:
        ids = list(self.waiting)
        for i in range(0, len(ids), self.CHUNK):
            chunk = ids[i : i + self.CHUNK]
            params = {"service_request_id": ",".join(chunk), "page_size": str(self.CHUNK)}
            try:
                r = await self.client.get(self.url, params=params)
            except httpx.HTTPError:
                continue
            if r.status_code != 200:
                continue
            seen = time.monotonic()
            for item in r.json():
                p = self.waiting.get(str(item.get("service_request_id")))
                if p is not None and item.get("agency_responsible"):
                    self.took[p.id] = seen - p.sent_at
                    del self.waiting[p.id]

    async def run(self, until: asyncio.Event, timeout: float) -> None:
        """Ticks until `until` is set and nothing waits, or `timeout` s after `until`."""
        deadline: float | None = None
        while True:
            if until.is_set():
                deadline = deadline or time.monotonic() + timeout
                if not self.waiting or time.monotonic() > deadline:
                    return
            started = time.monotonic()
            if self.waiting:
                await self._tick()
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))
