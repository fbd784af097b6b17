"""A real Prometheus (Debian's package) scrapes the four services running as `python -m
services.<name>` against the embedded stack; a report's trace id links intake to routing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiokafka import AIOKafkaConsumer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from devstack.servers import free_port, stop
from shared.kafka import all_topics, ensure_topics
from shared.tracing import new_traceparent, trace_id
from tests.conftest import Infra
from tests.deploy.support import DEPLOY, ROOT, SERVICES, prometheus_bin
from tests.support import eventually, unique


@dataclass
class TraceSink:
    """A minimal OTLP/HTTP receiver: keeps (service.name, trace id) of every exported span."""

    spans: list[tuple[str, str]] = field(default_factory=list)

    def serve(self) -> ThreadingHTTPServer:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for rs in request.resource_spans:
                    attrs = {a.key: a.value.string_value for a in rs.resource.attributes}
                    for ss in rs.scope_spans:
                        for s in ss.spans:
                            sink.spans.append((attrs.get("service.name", ""), s.trace_id.hex()))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@dataclass
class Stack:
    ports: dict[str, int]
    prometheus: str
    prefix: str
    kafka: str
    traces: TraceSink


def _prometheus_config(ports: dict[str, int], path: Path) -> None:
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(DEPLOY / "prometheus/alerts.yml")],
        "scrape_configs": [
            {"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
            for name, port in ports.items()
        ],
    }
    path.write_text(yaml.safe_dump(config))


def _spawn(cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


@pytest.fixture(scope="module")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    workdir = tmp_path_factory.mktemp("live")
    prometheus = prometheus_bin("prometheus")
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    traces = TraceSink()
    otlp = traces.serve()
    ports = {name: free_port() for name in SERVICES}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name, port in ports.items():
            env = {
                **os.environ,
                "ENVIRONMENT": "development",
                "HTTP_PORT": str(port),
                "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
                "MONGODB_URI": infra.mongodb_uri,
                "KAFKA_TOPIC_PREFIX": prefix,
                "MONGODB_DB": unique(f"live_{name}_"),
                "OUTBOX_POLL_INTERVAL_S": "0.2",
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp.server_address[1]}",
                "OTEL_BSP_SCHEDULE_DELAY": "200",
            }
            cmd = [sys.executable, "-m", f"services.{name}"]
            procs.append(_spawn(cmd, workdir / f"{name}.log", env))
        async with httpx.AsyncClient(timeout=5) as client:
            for port in ports.values():
                url = f"http://127.0.0.1:{port}/health/ready"
                await eventually(
                    lambda url=url: _ok(client, url),  # type: ignore[misc]
                    timeout=120,
                    interval=0.5,
                    what=f"service on {port} ready",
                )
            config = workdir / "prometheus.yml"
            _prometheus_config(ports, config)
            prom_port = free_port()
            cmd = [
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ]
            procs.append(_spawn(cmd, workdir / "prometheus.log", dict(os.environ)))
            base = f"http://127.0.0.1:{prom_port}"
            await eventually(
                lambda: _ok(client, f"{base}/-/ready"), timeout=60, what="prometheus ready"
            )
        yield Stack(ports, base, prefix, infra.kafka, traces)
    finally:
        for proc in procs:
            stop(proc, timeout=20)
        otlp.shutdown()


async def _ok(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


async def _query(stack: Stack, promql: str) -> float | None:
    async with httpx.AsyncClient(timeout=5) as client:
        r = await client.get(f"{stack.prometheus}/api/v1/query", params={"query": promql})
    result = r.json()["data"]["result"]
    return sum(float(s["value"][1]) for s in result) if result else None


async def _post_report(stack: Stack, traceparent: str) -> str:
    base = f"http://127.0.0.1:{stack.ports['intake']}/api/v1"
    async with httpx.AsyncClient(timeout=10) as client:

        async def category() -> str | None:
            items = (await client.get(f"{base}/categories")).json().get("items", [])
            free = [c for c in items if not any(a["required"] for a in c.get("attributes", []))]
            return free[0]["code"] if free else None

        code = await eventually(category, timeout=60, interval=0.5, what="catalogue at intake")
        body = {"category": code, "lat": 16.4637, "lon": 107.5909, "description": "Live test"}
        r = await client.post(f"{base}/reports", json=body, headers={"traceparent": traceparent})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_prometheus_scrapes_every_service_up(stack: Stack) -> None:
    async def all_up() -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            targets = (await client.get(f"{stack.prometheus}/api/v1/targets")).json()
        active = targets["data"]["activeTargets"]
        return len(active) == len(SERVICES) and all(t["health"] == "up" for t in active)

    await eventually(all_up, timeout=30, what="every target up")


async def test_the_alert_rules_load_into_the_real_server(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        groups = (await client.get(f"{stack.prometheus}/api/v1/rules")).json()["data"]["groups"]
    assert {g["name"] for g in groups} == {
        "fieldreports-availability",
        "fieldreports-events",
        "fieldreports-business",
    }


@pytest.mark.parametrize(
    "series", ["dependency_up", "outbox_pending_events", "http_requests_total"]
)
async def test_key_series_exist_for_every_service(stack: Stack, series: str) -> None:
    async def present() -> bool:
        for job in SERVICES:
            if await _query(stack, f'count({series}{{job="{job}"}})') is None:
                return False
        return True

    await eventually(present, timeout=30, interval=0.5, what=f"{series} for every job")


async def test_event_counters_move_when_a_report_flows(stack: Stack) -> None:
    created = 'sum(events_published_total{job="intake",topic="report.created"})'
    routed = 'sum(events_consumed_total{job="routing",topic="report.created",outcome="processed"})'
    assigned = 'sum(events_published_total{job="routing",topic="report.assigned"})'
    before = [await _query(stack, q) or 0.0 for q in (created, routed, assigned)]
    await _post_report(stack, new_traceparent())

    async def moved() -> bool:
        after = [await _query(stack, q) or 0.0 for q in (created, routed, assigned)]
        return all(a > b for a, b in zip(after, before, strict=True))

    await eventually(moved, timeout=60, interval=0.5, what="counters moved")


async def _events(
    stack: Stack, topic: str, subject: str
) -> list[tuple[dict[str, Any], dict[str, bytes]]]:
    consumer = AIOKafkaConsumer(
        stack.prefix + topic, bootstrap_servers=stack.kafka, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=2000)
    finally:
        await consumer.stop()
    found = []
    for records in batches.values():
        for rec in records:
            event = json.loads(rec.value or b"{}")
            if event.get("subject") == subject:
                found.append((event, dict(rec.headers or [])))
    return found


async def test_one_trace_id_links_creation_in_intake_to_assignment_in_routing(
    stack: Stack,
) -> None:
    traceparent = new_traceparent()
    tid = trace_id(traceparent)
    report_id = await _post_report(stack, traceparent)

    created = await eventually(
        lambda: _events(stack, "report.created", report_id), timeout=60, what="report.created"
    )
    assigned = await eventually(
        lambda: _events(stack, "report.assigned", report_id), timeout=60, what="report.assigned"
    )
    (event, headers), (routed, _) = created[0], assigned[0]
    assert trace_id(event["traceparent"]) == tid
    assert trace_id(headers["traceparent"].decode()) == tid
    assert trace_id(routed["traceparent"]) == tid

    async def exported() -> bool:
        services = {name for name, t in stack.traces.spans if t == tid}
        return {"intake", "routing"} <= services

    await eventually(exported, timeout=30, what="spans of intake and routing exported over OTLP")
