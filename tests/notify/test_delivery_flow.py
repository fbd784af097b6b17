"""notify against the real embedded broker and database, with real SMTP and HTTP peers."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import httpx
import pytest

from services.notify.domain.delivery import verify_webhook
from tests.notify.conftest import SECRET, SMS_CAP, Stack
from tests.notify.harness import assigned, created, escalated, resolved, staff_token
from tests.support import eventually, unique


def rid() -> str:
    return unique("r-")


async def test_delivery_log_needs_an_operator_token(stack: Stack) -> None:
    anonymous = await stack.client.get("/api/v1/notifications", headers={"Authorization": ""})
    staff = await stack.client.get(
        "/api/v1/notifications", headers={"Authorization": f"Bearer {staff_token('roads')}"}
    )
    assert (anonymous.status_code, staff.status_code) == (401, 403)


async def test_every_recipient_gets_a_log_entry(stack: Stack) -> None:
    report = rid()
    await stack.publish(created(report, None))
    await stack.publish(assigned(report, "roads"))

    async def logged() -> list[dict[str, Any]]:
        items = await stack.deliveries(report, channel="log")
        return items if len(items) == 3 else []

    items = await eventually(logged, what="log entries")
    assert {(i["event_type"], i["recipient_kind"]) for i in items} == {
        ("report.created", "resident"),
        ("report.assigned", "resident"),
        ("report.assigned", "agency"),
    }


async def test_triage_assignment_tells_ioc_operators(stack: Stack) -> None:
    report = rid()
    await stack.publish(assigned(report, "ioc"))

    async def operators() -> list[dict[str, Any]]:
        return await stack.deliveries(report, recipient_kind="operator")

    [entry] = await eventually(operators, what="operator notification")
    assert (entry["recipient_id"], entry["channel"]) == ("ioc", "log")


async def emails_to(stack: Stack, address: str, count: int) -> list[Any]:
    async def arrived() -> list[Any]:
        got = stack.mailbox.to(address)
        return got if len(got) >= count else []

    return await eventually(arrived, what=f"{count} emails")


def text_of(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


async def test_resident_gets_one_email_on_assignment_and_one_on_resolution_in_their_language(
    stack: Stack,
) -> None:
    report, address = rid(), f"{rid()}@example.org"
    await stack.apply(created(report, {"email": address}, language="en"))
    await stack.apply(assigned(report, "roads"))
    await stack.apply(resolved(report, "roads"))
    mails = await emails_to(stack, address, 3)
    assert sorted(m["Subject"] for m in mails) == [
        "We received your report",
        "Your report has been assigned",
        "Your report has been resolved",
    ]


async def test_email_follows_the_language_in_the_contact(stack: Stack) -> None:
    report, address = rid(), f"{rid()}@example.org"
    await stack.publish(created(report, {"email": address, "language": "vi"}, language="en"))
    [mail] = await emails_to(stack, address, 1)
    assert mail["Subject"] == "Đã tiếp nhận phản ánh của bạn"


async def confirm(link: str) -> httpx.Response:
    """Follows an unsubscribe link (a confirmation page), then confirms (RFC 8058's POST)."""
    async with httpx.AsyncClient() as client:
        assert (await client.get(link)).status_code == 200
        return await client.post(link, data={"List-Unsubscribe": "One-Click"})


async def test_unsubscribe_link_stops_further_emails(stack: Stack) -> None:
    report, address = rid(), f"{rid()}@example.org"
    await stack.publish(created(report, {"email": address}))
    [mail] = await emails_to(stack, address, 1)
    link = re.search(r"http://\S+/api/v1/unsubscribe\?token=\S+", text_of(mail))
    assert link is not None
    assert (await confirm(link.group(0))).status_code == 200
    await stack.publish(assigned(report, "roads"))

    async def skipped() -> list[dict[str, Any]]:
        return await stack.deliveries(report, channel="email", status="skipped")

    [entry] = await eventually(skipped, what="email skipped")
    assert entry["last_error"] == "unsubscribed"
    assert len(stack.mailbox.to(address)) == 1


async def test_forged_unsubscribe_link_is_refused_in_the_common_error_shape(stack: Stack) -> None:
    for method in ("GET", "POST"):
        r = await stack.client.request(method, "/api/v1/unsubscribe", params={"token": "k.bad"})
        assert r.status_code == 400
        assert r.json() == {
            "error": {"code": "invalid_token", "message": "this unsubscribe link is not valid"}
        }


async def test_flaky_webhook_gets_exactly_one_signed_delivery(stack: Stack) -> None:
    report = rid()
    await stack.publish(assigned(report, "flaky"))

    async def accepted() -> list[Any]:
        return [r for r in stack.http.at("/hook/flaky") if r.json()["report_id"] == report]

    calls = await eventually(
        lambda: _when(accepted, lambda c: any(r.status == 200 for r in c)), what="accepted"
    )
    [ok] = [r for r in calls if r.status == 200]
    assert [r.status for r in calls] == [500, 500, 200]
    headers = {k.lower(): v for k, v in ok.headers.items()}
    assert verify_webhook(
        SECRET,
        headers["x-fieldreports-timestamp"],
        ok.body,
        headers["x-fieldreports-signature"],
        now=int(time.time()),
    )
    [entry] = await stack.deliveries(report, channel="webhook")
    assert (entry["status"], entry["attempts"]) == ("sent", 3)


async def _when(probe: Any, ok: Any) -> Any:
    value = await probe()
    return value if ok(value) else None


async def test_sms_gateway_receives_the_message(stack: Stack) -> None:
    report, phone = rid(), "+84905550123"
    await stack.publish(created(report, {"phone": phone}))

    async def received() -> list[Any]:
        return [r for r in stack.http.at("/sms") if r.json()["to"] == phone]

    [call] = await eventually(received, what="sms")
    assert call.headers["Authorization"] == "Bearer gw-token"
    assert "đã được tiếp nhận" in call.json()["text"]


async def sms_to(stack: Stack, phone: str, count: int) -> list[str]:
    async def received() -> list[str]:
        texts = [r.json()["text"] for r in stack.http.at("/sms") if r.json()["to"] == phone]
        return texts if len(texts) >= count else []

    return await eventually(received, what=f"{count} sms")


async def test_resident_sms_is_cut_to_the_cap_and_keeps_its_opt_out_link(stack: Stack) -> None:
    report, phone = rid(), "+84905550124"
    await stack.publish(created(report, {"phone": phone}, language="en"))
    [text] = await sms_to(stack, phone, 1)
    body, _, opt_out = text.rpartition("\n")
    assert len(text) <= SMS_CAP
    assert body.startswith("Thank you")
    assert body.endswith("…")
    assert re.fullmatch(r"Stop these SMS: http://\S+/api/v1/unsubscribe\?token=sms-\S+", opt_out)


async def test_sms_opt_out_link_stops_further_sms(stack: Stack) -> None:
    report, phone = rid(), "+84 905 550 125"
    await stack.publish(created(report, {"phone": phone}))
    [text] = await sms_to(stack, phone, 1)
    link = re.search(r"http://\S+/api/v1/unsubscribe\?token=\S+", text)
    assert link is not None
    page = await confirm(link.group(0))
    assert (page.status_code, "SMS" in page.text) == (200, True)
    await stack.publish(assigned(report, "roads"))

    async def skipped() -> list[dict[str, Any]]:
        return await stack.deliveries(report, channel="sms", status="skipped")

    [entry] = await eventually(skipped, what="sms skipped")
    assert entry["last_error"] == "unsubscribed"
    assert len(await sms_to(stack, phone, 1)) == 1


async def test_redelivered_and_reannounced_events_send_nothing_twice(stack: Stack) -> None:
    report, address = rid(), f"{rid()}@example.org"
    first_created = created(report, {"email": address}, language="en")
    first_assigned = assigned(report, "roads")
    for event in (first_created, first_created, first_assigned, first_assigned):
        await stack.apply(event)
    # Reconciliation: a new report.created for the same report, answered by routing with a
    # new report.assigned for the same assignment.
    await stack.apply(created(report, {"email": address}, language="en", seq=2))
    await stack.apply(assigned(report, "roads", seq=2))
    await stack.apply(resolved(report, "roads", seq=3))

    # Every event is processed: the deliveries are final; wait until the worker sent them all.
    async def all_sent() -> list[dict[str, Any]]:
        items = await stack.deliveries(report, channel="email", recipient_kind="resident")
        return items if all(i["status"] == "sent" for i in items) else []

    entries = await eventually(all_sent, what="emails sent")
    assert sorted(e["event_type"] for e in entries) == [
        "report.assigned",
        "report.created",
        "report.resolved",
    ]
    assert len(stack.mailbox.to(address)) == 3


async def test_resident_is_told_of_an_assignment_that_arrived_before_the_report(
    stack: Stack,
) -> None:
    report, address = rid(), f"{rid()}@example.org"
    await stack.publish(assigned(report, "roads"))
    await eventually(lambda: stack.deliveries(report, recipient_kind="agency"), what="agency")
    await stack.publish(created(report, {"email": address}, language="en"))
    mails = await emails_to(stack, address, 2)
    assert sorted(m["Subject"] for m in mails) == [
        "We received your report",
        "Your report has been assigned",
    ]


async def test_contact_details_never_reach_the_log_api_or_logs(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    report, address, phone = rid(), f"{rid()}@example.org", "+84907778899"
    contact = {"email": address, "phone": phone, "name": "Trần Thị Bí Mật"}
    await stack.publish(created(report, contact))
    await emails_to(stack, address, 1)

    async def all_sent() -> list[dict[str, Any]]:
        items = await stack.deliveries(report)
        return items if items and all(i["status"] == "sent" for i in items) else []

    items = await eventually(all_sent, what="deliveries sent")
    body = (await stack.client.get("/api/v1/notifications", params={"report_id": report})).text
    # Everything logged in this process except the test's own SMTP server (mail.log).
    logs = "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records if not r.name.startswith("mail")
    )
    for secret in (address, phone, "Bí Mật", address.split("@")[0]):
        assert secret not in body
        assert secret not in logs
    assert {i["recipient"] for i in items} >= {f"{address[0]}***@example.org", "+84***99"}


async def test_escalation_reaches_the_agency_by_email(stack: Stack) -> None:
    report = rid()
    await stack.apply(assigned(report, "roads"))
    await stack.publish(escalated(report, "roads"))

    async def mail() -> list[Any]:
        return [
            m
            for m in stack.mailbox.to("desk@roads.example")
            if m["Subject"] == f"Phản ánh quá hạn: {report}"
        ]

    [message] = await eventually(mail, what="escalation email")
    assert "Ổ gà" in text_of(message)


async def test_channels_endpoint_says_what_is_switched_on(stack: Stack) -> None:
    response = await stack.client.get("/api/v1/channels")
    assert {c["channel"]: c["enabled"] for c in response.json()} == {
        "log": True,
        "email": True,
        "webhook": True,
        "sms": True,
    }
