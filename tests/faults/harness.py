"""Services as real child processes (`python -m services.<name>`), and what the fault tests ask
of them over HTTP, Kafka and MongoDB."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from devstack.servers import free_port
from tests.faults.offsets import committed_to_end
from tests.support import eventually, unique

ROOT = Path(__file__).resolve().parents[2]
PHU_HOI = {"lat": 16.459, "lon": 107.599}  # inside a demo ward: routed to an agency by rule
CATEGORY = "garbage"  # a demo category without required attributes

Document = dict[str, Any]


@dataclass
class ServiceProcess:
    """One service process with its own port, database and log file."""

    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db(self) -> str:
        return self.env["MONGODB_DB"]

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} already running"
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            cwd=ROOT,
            env={**os.environ, **self.env, "HTTP_PORT": str(self.port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, in-flight work is abandoned mid-way."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    async def wait_ready(self, client: httpx.AsyncClient, timeout: float = 90) -> None:
        async def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.tail()}")
            try:
                return (await client.get(self.url + "/health/ready", timeout=5)).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            await eventually(ready, timeout=timeout, interval=0.25, what=f"{self.name} ready")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.name} log ---\n{self.tail()}") from exc


class Launcher:
    """Makes service processes for one test; `stop_all` ends every one it made."""

    def __init__(self, logdir: Path, kafka: str, mongodb_uri: str, prefix: str) -> None:
        self.logdir = logdir
        self.kafka = kafka
        self.mongodb_uri = mongodb_uri
        self.prefix = prefix
        self.made: list[ServiceProcess] = []

    def service(self, name: str, **overrides: str) -> ServiceProcess:
        env = {
            "ENVIRONMENT": "test",
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "MONGODB_URI": self.mongodb_uri,
            "MONGODB_DB": unique(f"faults_{name}_"),
            "KAFKA_TOPIC_PREFIX": self.prefix,
            "OUTBOX_POLL_INTERVAL_S": "0.2",
            "CONSUMER_RETRY_BACKOFF_S": "0.05",
            "RATE_LIMIT_CREATE_BURST": "0",  # the tests post faster than a resident may
            "RATE_LIMIT_READ_BURST": "0",  # and poll faster than one reads
            "RATE_LIMIT_ACT_BURST": "0",
            "KAFKA_GROUP_ID": "",  # empty: `<prefix><service>`, never the caller's
            **overrides,
        }
        svc = ServiceProcess(name, env, self.logdir / f"{name}-{len(self.made)}.log")
        self.made.append(svc)
        return svc

    async def start(self, client: httpx.AsyncClient, *services: ServiceProcess) -> None:
        for svc in services:
            svc.start()
        await asyncio.gather(*(svc.wait_ready(client) for svc in services))

    def stop_all(self) -> None:
        for svc in reversed(self.made):
            svc.stop()

    async def caught_up(self, svc: ServiceProcess, topic: str, timeout: float = 60) -> None:
        """Waits until `svc`'s group has committed every message of `topic`. Offsets are
        committed only after an event's effect is stored, so nothing of it is still in flight:
        a check that something did NOT happen (twice) is meaningful only after this."""
        group = self.prefix + svc.name  # KAFKA_GROUP_ID is empty: `<prefix><service>`
        await eventually(
            lambda: committed_to_end(self.kafka, group, self.prefix + topic),
            timeout=timeout,
            interval=0.5,
            what=f"{group} consumed all of {topic}",
        )


@dataclass(frozen=True)
class Posted:
    id: str
    token: str


async def catalogue_reached(client: httpx.AsyncClient, intake: ServiceProcess) -> None:
    async def has_category() -> bool:
        try:
            r = await client.get(intake.url + "/api/v1/categories")
        except httpx.HTTPError:
            return False
        if r.status_code != 200:
            return False
        body = r.json()
        items = body["items"] if isinstance(body, dict) else body
        return any(c["code"] == CATEGORY for c in items)

    await eventually(has_category, timeout=60, what="catalogue reached intake")


async def post_report(
    client: httpx.AsyncClient, intake: ServiceProcess, n: int, contact: Document | None = None
) -> Posted:
    body: Document = {"category": CATEGORY, **PHU_HOI, "description": f"Rác chưa thu gom #{n}"}
    if contact:
        body["contact"] = contact
    r = await client.post(intake.url + "/api/v1/reports", json=body, timeout=30)
    assert r.status_code == 201, f"{r.status_code} {r.text}\n{intake.tail()}"
    return Posted(r.json()["id"], r.json()["tracking_token"])


async def post_reports(
    client: httpx.AsyncClient, intake: ServiceProcess, n: int, start: int = 0
) -> list[Posted]:
    return list(await asyncio.gather(*(post_report(client, intake, start + i) for i in range(n))))


async def statuses(
    client: httpx.AsyncClient, intake: ServiceProcess, reports: Sequence[Posted]
) -> dict[str, str]:
    async def one(p: Posted) -> str:
        r = await client.get(f"{intake.url}/api/v1/reports/{p.id}", timeout=10)
        return str(r.json()["status"]) if r.status_code == 200 else f"http {r.status_code}"

    found = await asyncio.gather(*(one(p) for p in reports))
    return dict(zip([p.id for p in reports], found, strict=True))


async def all_assigned(
    client: httpx.AsyncClient,
    intake: ServiceProcess,
    reports: Sequence[Posted],
    timeout: float = 60,
) -> None:
    last: dict[str, str] = {}

    async def probe() -> bool:
        nonlocal last
        try:
            last = await statuses(client, intake, reports)
        except httpx.HTTPError:
            return False
        return all(s == "assigned" for s in last.values())

    try:
        await eventually(probe, timeout=timeout, interval=0.5, what="every report assigned")
    except AssertionError as exc:
        waiting = {k: v for k, v in last.items() if v != "assigned"}
        raise AssertionError(f"{exc}: not assigned: {waiting}") from exc


async def assigned_entries(client: httpx.AsyncClient, intake: ServiceProcess, p: Posted) -> int:
    """How many `report.assigned` entries the resident's timeline shows for the report."""
    r = await client.get(
        f"{intake.url}/api/v1/reports/{p.id}/timeline",
        headers={"X-Tracking-Token": p.token},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return sum(1 for e in r.json()["entries"] if e["type"] == "report.assigned")


async def assignments_per_report(mongo: AsyncMongoClient[Document], db: str) -> dict[str, int]:
    """Routing's own record: number of assignment documents per report."""
    counts: dict[str, int] = {}
    async for doc in mongo[db]["assignments"].find({}, {"report_id": 1}):
        counts[doc["report_id"]] = counts.get(doc["report_id"], 0) + 1
    return counts


async def outbox_events_per_report(
    mongo: AsyncMongoClient[Document], db: str, type_: str
) -> dict[str, int]:
    """How many distinct events of a type a service wrote per report (its outbox)."""
    counts: dict[str, int] = {}
    async for doc in mongo[db]["outbox"].find({"type": type_}, {"subject": 1}):
        counts[doc["subject"]] = counts.get(doc["subject"], 0) + 1
    return counts


async def token(client: httpx.AsyncClient, routing: ServiceProcess, username: str) -> str:
    r = await client.post(
        routing.url + "/api/v1/auth/token", data={"username": username, "password": "demo"}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of a Prometheus sample's values whose labels include `labels`."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


@dataclass
class OwnServer:
    """A broker or database of one test's own, on a fixed port, that the test stops and restarts."""

    kind: str  # "kafka" or "mongo"
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        if self.kind == "kafka":
            return f"127.0.0.1:{self.port}"
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> None:
        from devstack.servers import start_kafka, start_mongo

        # The broker keeps nothing (in memory); the database keeps its data dir across restarts.
        starter = start_kafka if self.kind == "kafka" else start_mongo
        self.proc = starter(self.port, self.workdir)

    def stop(self) -> None:
        from devstack.servers import stop

        if self.proc is not None:
            stop(self.proc)
