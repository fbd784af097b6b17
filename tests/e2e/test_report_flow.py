"""A report's whole life through HTTP, across the four services, as a resident and staff see it."""

from __future__ import annotations

import json
import mailbox
import os
import signal
import time
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.events import PAYLOADS
from tests.e2e.conftest import Stack
from tests.e2e.flow import (
    EXPECTED_METRICS,
    get_json,
    metric_value,
    metrics_text,
    settled_resident_emails,
    token,
)
from tests.shared.test_asyncapi import data_fields
from tests.support import eventually

HUE_CENTRE = {"lat": 16.4637, "lon": 107.5909}
SERVICES = ("intake", "routing", "notify", "analytics")


@pytest.fixture(scope="module")
async def resolved_report(stack: Stack) -> dict[str, Any]:
    """Posts one report, lets routing assign it, resolves it as the agency's demo staff."""
    intake = stack.url("intake")
    async with httpx.AsyncClient(timeout=10) as client:
        categories = await eventually(
            lambda: get_json(client, intake + "/api/v1/categories"),
            timeout=60,
            what="catalogue reached intake",
        )
        items = categories["items"] if isinstance(categories, dict) else categories
        category = next(c["code"] for c in items if c["code"] == "pothole")
        created = await client.post(
            intake + "/api/v1/reports",
            json={
                "category": category,
                **HUE_CENTRE,
                "description": "Ổ gà lớn giữa đường",
                "attributes": {"size": "large"},
                "contact": {"name": "Trần Thị B", "email": "resident@example.org"},
            },
        )
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]

        async def assigned() -> Any:
            view = await get_json(client, f"{intake}/api/v1/reports/{report_id}")
            return view if view and view["status"] == "assigned" and view["agency_id"] else None

        view = await eventually(assigned, timeout=60, what="report assigned")
        staff_token = await token(client, stack, view["agency_id"])
        auth = {"Authorization": f"Bearer {staff_token}"}
        queue = await get_json(
            client,
            stack.url("routing") + "/api/v1/assignments",
            params={"report_id": report_id},
            headers=auth,
        )
        [assignment] = queue["items"]
        resolve = await client.post(
            f"{stack.url('routing')}/api/v1/assignments/{assignment['id']}/resolve",
            json={"note": "Đã vá ổ gà / pothole patched"},
            headers=auth,
        )
        assert resolve.status_code == 200, resolve.text

        async def resolved() -> Any:
            view = await get_json(client, f"{intake}/api/v1/reports/{report_id}")
            return view if view and view["status"] == "resolved" else None

        return {
            "id": report_id,
            "created": created.json(),
            "assigned": view,
            "assignment": assignment,
            "view": await eventually(resolved, timeout=60, what="report resolved"),
        }


def test_resident_sees_the_report_resolved_by_the_agency_it_was_routed_to(
    resolved_report: dict[str, Any],
) -> None:
    routed_to = resolved_report["assigned"]["agency_id"]
    assert resolved_report["assignment"]["agency_id"] == routed_to
    assert resolved_report["view"]["status"] == "resolved"
    assert resolved_report["view"]["agency_id"] == routed_to


def test_no_public_view_carries_the_reporters_contact(resolved_report: dict[str, Any]) -> None:
    for body in (resolved_report["created"], resolved_report["view"]):
        text = json.dumps(body, ensure_ascii=False)
        assert "resident@example.org" not in text
        assert "Trần Thị B" not in text


async def test_notifications_recorded_for_the_report(
    stack: Stack, resolved_report: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        auth = {"Authorization": f"Bearer {await token(client, stack, 'operator')}"}

        async def logged() -> Any:
            log = await get_json(
                client,
                stack.url("notify") + "/api/v1/notifications",
                params={"report_id": resolved_report["id"]},
                headers=auth,
            )
            events = {n["event_type"] for n in (log or {}).get("items", [])}
            return events if {"report.assigned", "report.resolved"} <= events else None

        await eventually(logged, timeout=60, what="notifications recorded")


async def test_analytics_counts_the_resolved_report(
    stack: Stack, resolved_report: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:

        async def counted() -> Any:
            summary = await get_json(client, stack.url("analytics") + "/api/v1/stats/summary")
            return summary if summary and summary["by_status"].get("resolved", 0) >= 1 else None

        summary = await eventually(counted, timeout=60, what="analytics counts resolution")
    assert summary["total"] >= 1
    assert summary["mean_time_to_resolve_s"] is not None


async def test_resident_gets_one_email_per_step_in_the_local_mail_sink(
    stack: Stack, resolved_report: dict[str, Any]
) -> None:
    """received, assigned, resolved: three emails, each delivered once, none to anyone else."""
    async with httpx.AsyncClient(timeout=10) as client:
        deliveries = await eventually(
            lambda: settled_resident_emails(client, stack, resolved_report["id"]),
            timeout=60,
            what="the resident's emails sent",
        )
    # Every delivery is settled: no further email for this report can still arrive.
    assert sorted(d["event_type"] for d in deliveries) == [
        "report.assigned",
        "report.created",
        "report.resolved",
    ]
    assert {d["status"] for d in deliveries} == {"sent"}
    box = mailbox.Maildir(stack.workdir / "mail", create=False)
    mails = [m for m in box if m["To"] == "resident@example.org"]
    assert len(mails) == 3
    assert len({m["Message-ID"] for m in mails}) == 3
    assert all(m["List-Unsubscribe"] for m in mails)


def _log_lines(stack: Stack, service: str, report_id: str) -> list[dict[str, Any]]:
    lines = (stack.workdir / "logs" / f"{service}.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    return [r for r in records if r.get("report_id") == report_id]


def test_one_trace_id_links_the_report_in_intake_and_routing_logs(
    stack: Stack, resolved_report: dict[str, Any]
) -> None:
    report_id = resolved_report["id"]
    [received] = [
        r for r in _log_lines(stack, "intake", report_id) if r["message"] == "report received"
    ]
    routed = [
        r
        for r in _log_lines(stack, "routing", report_id)
        if r["message"] == "report.created processed"
    ]
    assert received["trace_id"]
    assert [r["trace_id"] for r in routed] == [received["trace_id"]]


@pytest.mark.parametrize("service", SERVICES)
async def test_metrics_count_the_reports_requests_and_events(
    stack: Stack, resolved_report: dict[str, Any], service: str
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:

        async def counted() -> str | None:
            text = await metrics_text(client, stack, service)
            reached = all(
                metric_value(text, name, labels) >= least
                for name, labels, least, _ in EXPECTED_METRICS[service]
            )
            return text if reached else None

        text = await eventually(counted, timeout=60, what=f"{service} metrics counted the report")
    for name, labels, least, exact in EXPECTED_METRICS[service]:
        if exact:
            assert metric_value(text, name, labels) == least, (name, labels)
    assert metric_value(text, "events_dead_lettered_total", {}) == 0
    assert metric_value(text, "http_requests_total", {"status": "500"}) == 0


async def test_routing_counts_the_one_resolve_request(
    stack: Stack, resolved_report: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        text = await metrics_text(client, stack, "routing")
    resolves = [
        sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total"
        and sample.labels["method"] == "POST"
        and sample.labels["route"].endswith("/resolve")
    ]
    assert [(s.labels["status"], s.value) for s in resolves] == [("200", 1.0)]


@pytest.mark.parametrize("service", SERVICES)
async def test_asyncapi_types_every_topic_by_its_payload(stack: Stack, service: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        doc = (await client.get(stack.url(service) + "/asyncapi.json")).json()
    operations = doc["operations"]
    assert operations
    for channel in operations:
        topic = doc["channels"][channel]["address"].split(".", 1)[1]  # after the "e2e…." prefix
        model = PAYLOADS[topic]
        assert data_fields(doc, channel) == set(model.model_fields), channel


def test_a_crashed_service_is_restarted(stack: Stack, resolved_report: dict[str, Any]) -> None:
    before = json.loads((stack.workdir / "pids.json").read_text())["analytics"]
    os.kill(before, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        after = json.loads((stack.workdir / "pids.json").read_text())["analytics"]
        try:
            ready = httpx.get(stack.url("analytics") + "/health/ready", timeout=2).status_code
        except httpx.HTTPError:
            ready = 0
        if after != before and ready == 200:
            return
        time.sleep(0.5)
    raise AssertionError("analytics was not restarted and ready within 60s")


def test_ctrl_c_stops_every_process(stack: Stack, resolved_report: dict[str, Any]) -> None:
    pids = json.loads((stack.workdir / "pids.json").read_text())
    stack.proc.send_signal(signal.SIGINT)
    stack.proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in pids.values()):
        time.sleep(0.1)
    assert not [name for name, pid in pids.items() if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
