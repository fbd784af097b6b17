"""Who hears what, and how notify's view of a report moves. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.notify.domain.model import (
    AgencyContact,
    Channel,
    Incoming,
    RecipientKind,
    ReportView,
)
from services.notify.domain.rules import (
    apply,
    dedupe_key,
    resident_audience,
    staff_audience,
    tells_resident,
    template_name,
    who_hears,
    with_contact,
)
from shared.events import Status, Topic

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AGENCIES = {
    "roads": AgencyContact(
        "roads", {"vi": "Sở GT"}, {"email": "d@roads.vn", "webhook_url": "https://h"}
    ),
    "ioc": AgencyContact("ioc", {"vi": "IOC"}, {}),
}


def ev(topic: str, seq: int = 1, source: str = "routing", **kw: Any) -> Incoming:
    return Incoming(f"e-{topic}-{seq}", topic, "r1", source, seq, T0, **kw)


def test_resident_hears_every_public_step() -> None:
    told = {t for t in Topic if tells_resident(ev(t))}
    assert told == {
        Topic.REPORT_CREATED,
        Topic.REPORT_ASSIGNED,
        Topic.REPORT_IN_PROGRESS,
        Topic.REPORT_RESOLVED,
        Topic.REPORT_CLOSED,
        Topic.REPORT_REJECTED,
        Topic.REPORT_DUPLICATE,
    }


def test_agency_hears_assignment_escalation_and_reopening() -> None:
    view = ReportView("r1", agency_id="roads")
    heard = {t for t in Topic if staff_audience(ev(t), view, AGENCIES, "ioc")}
    assert heard == {Topic.REPORT_ASSIGNED, Topic.REPORT_ESCALATED, Topic.REPORT_REOPENED}


def test_agency_is_reached_through_its_public_contacts() -> None:
    audience = staff_audience(
        ev(Topic.REPORT_ASSIGNED, agency_id="roads"), ReportView("r1"), AGENCIES, "ioc"
    )
    assert audience is not None
    assert audience.addresses == {Channel.EMAIL: "d@roads.vn", Channel.WEBHOOK: "https://h"}


def test_assignment_to_ioc_goes_to_operators_as_triage() -> None:
    event = ev(Topic.REPORT_ASSIGNED, agency_id="ioc")
    audience = staff_audience(event, ReportView("r1"), AGENCIES, "ioc")
    assert audience is not None
    assert audience.kind is RecipientKind.OPERATOR
    assert template_name(audience.kind, event.type) == "operator/triage"


def test_resident_is_reached_by_email_and_sms_in_their_language() -> None:
    contact = {"email": "n@example.org", "phone": "+84901234567", "language": "en"}
    audience = resident_audience(contact, "vi")
    assert audience.language == "en"
    assert set(audience.addresses) == {Channel.EMAIL, Channel.SMS}


def test_resident_without_contact_has_no_address() -> None:
    assert resident_audience(None, "xx").addresses == {}


def test_assignment_streams_assigned_with_agency() -> None:
    _, change = apply(ReportView("r1"), ev(Topic.REPORT_ASSIGNED, agency_id="roads"))
    assert change is not None
    assert (change.n, change.status, change.agency_id) == (1, Status.ASSIGNED, "roads")


def test_older_event_of_the_same_source_changes_nothing() -> None:
    view, _ = apply(ReportView("r1"), ev(Topic.REPORT_RESOLVED, seq=3, agency_id="roads"))
    after, change = apply(view, ev(Topic.REPORT_ASSIGNED, seq=2, agency_id="roads"))
    assert change is None
    assert after.status is Status.RESOLVED


def test_late_created_does_not_undo_assignment() -> None:
    view, _ = apply(ReportView("r1"), ev(Topic.REPORT_ASSIGNED, agency_id="roads"))
    after, change = apply(view, ev(Topic.REPORT_CREATED, source="intake"))
    assert change is None
    assert after.status is Status.ASSIGNED
    assert after.contact_known


def test_acceptance_keeps_public_status_without_a_stream_entry() -> None:
    view, _ = apply(ReportView("r1"), ev(Topic.REPORT_ASSIGNED, agency_id="roads"))
    _, change = apply(view, ev(Topic.REPORT_ACCEPTED, seq=2, agency_id="roads"))
    assert change is None


def test_reannounced_news_shares_one_dedupe_key() -> None:
    first = ev(Topic.REPORT_CREATED, seq=1, source="intake")
    again = ev(Topic.REPORT_CREATED, seq=2, source="intake")
    assert dedupe_key(first) == dedupe_key(again)
    a1 = ev(Topic.REPORT_ASSIGNED, seq=1, assignment_id="a", attempt=1)
    a2 = ev(Topic.REPORT_ASSIGNED, seq=2, assignment_id="a", attempt=1)
    assert dedupe_key(a1) == dedupe_key(a2)


def test_reroute_is_new_news() -> None:
    a1 = ev(Topic.REPORT_ASSIGNED, seq=1, assignment_id="a", attempt=1)
    a2 = ev(Topic.REPORT_ASSIGNED, seq=2, assignment_id="b", attempt=2)
    assert dedupe_key(a1) != dedupe_key(a2)


def test_resident_news_before_the_contact_waits_on_the_view() -> None:
    view, _ = apply(ReportView("r1"), ev(Topic.REPORT_RESOLVED))
    plan, view = who_hears(ev(Topic.REPORT_RESOLVED), view, None, AGENCIES, "ioc")
    assert (plan, [w.type for w in view.awaiting_contact]) == ([], [Topic.REPORT_RESOLVED])


def test_created_tells_the_resident_of_what_waited_and_clears_it() -> None:
    waiting = ev(Topic.REPORT_RESOLVED)
    view = ReportView("r1", contact_known=True, awaiting_contact=[waiting])
    created = ev(Topic.REPORT_CREATED, source="intake")
    plan, view = who_hears(created, view, {"email": "n@x.vn"}, AGENCIES, "ioc")
    assert [news.type for news, _ in plan] == [Topic.REPORT_CREATED, Topic.REPORT_RESOLVED]
    assert view.awaiting_contact == []


def test_contact_language_wins_over_the_declared_one_and_unknown_falls_back() -> None:
    view = with_contact(ReportView("r1"), "sealed", {"language": "en-GB"}, "vi")
    assert (view.language, view.contact_sealed) == ("en", "sealed")
    assert with_contact(ReportView("r1"), None, None, "fr").language == "vi"
