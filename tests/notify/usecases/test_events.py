"""Incoming report events against fake stores and the fake unit of work. No I/O."""

from __future__ import annotations

from services.notify.domain.model import Channel, DeliveryStatus, RecipientKind
from shared.catalog import AgencyRefV1
from shared.events import Status
from tests.notify.fakes import BOX, TOKENS, Rig
from tests.notify.harness import assigned, catalog, created, recategorized, resolved

ROADS = AgencyRefV1(
    id="roads", name={"vi": "Sở GT", "en": "Roads"}, kind="department",
    contacts={"email": "desk@roads.example"},
)  # fmt: skip


async def test_created_records_a_log_entry_and_a_pending_email_for_the_resident() -> None:
    rig = Rig()
    await rig.apply(created("r1", {"email": "n@example.org"}))
    got = {(d.channel, d.status) for d in rig.deliveries.of("r1")}
    assert got == {(Channel.LOG, DeliveryStatus.SENT), (Channel.EMAIL, DeliveryStatus.PENDING)}


async def test_pending_delivery_wakes_the_worker_once() -> None:
    rig = Rig()
    await rig.apply(created("r1", {"email": "n@example.org"}))
    assert rig.wakeups == 1


async def test_log_entry_alone_does_not_wake_the_worker() -> None:
    rig = Rig()
    await rig.apply(created("r1", None))
    assert (len(rig.deliveries.of("r1")), rig.wakeups) == (1, 0)


async def test_address_is_sealed_for_its_delivery_only() -> None:
    rig = Rig()
    await rig.apply(created("r1", {"phone": "+84901112233"}))
    [sms] = rig.deliveries.of("r1", channel=Channel.SMS)
    assert sms.address_sealed is not None
    assert BOX.open(sms.address_sealed, aad=sms.id) == "+84901112233"
    assert sms.recipient == "+84***33"


async def test_resident_language_comes_from_the_contact() -> None:
    rig = Rig()
    await rig.apply(created("r1", {"email": "n@example.org", "language": "en"}, language="vi"))
    assert {d.language for d in rig.deliveries.of("r1")} == {"en"}


async def test_disabled_channel_is_recorded_as_skipped_with_why() -> None:
    rig = Rig(disabled={Channel.EMAIL: "SMTP_HOST is not set"})
    await rig.apply(created("r1", {"email": "n@example.org"}))
    [email] = rig.deliveries.of("r1", channel=Channel.EMAIL)
    assert (email.status, email.last_error) == (
        DeliveryStatus.SKIPPED,
        "channel disabled: SMTP_HOST is not set",
    )


async def test_unsubscribed_address_is_recorded_as_skipped() -> None:
    rig = Rig()
    await rig.preferences.unsubscribe(
        TOKENS.address_key(Channel.EMAIL, "N@example.org"), Channel.EMAIL, rig.now
    )
    await rig.apply(created("r1", {"email": "n@example.org"}))
    [email] = rig.deliveries.of("r1", channel=Channel.EMAIL)
    assert (email.status, email.last_error) == (DeliveryStatus.SKIPPED, "unsubscribed")


async def test_unreadable_contact_leaves_the_resident_a_log_entry_only() -> None:
    rig = Rig()
    event = created("r1", {"email": "n@example.org"})
    data = {**event.data, "contact_sealed": BOX.seal({"email": "x@y.z"}, aad="another")}
    await rig.apply(event.model_copy(update={"data": data}))
    assert [d.channel for d in rig.deliveries.of("r1")] == [Channel.LOG]


async def test_assignment_streams_a_status_change_with_the_agency() -> None:
    rig = Rig()
    await rig.apply(created("r1", None), assigned("r1", "roads"))
    changes = rig.reports.changes["r1"]
    assert [(c.n, c.status, c.agency_id) for c in changes] == [
        (1, Status.RECEIVED, None),
        (2, Status.ASSIGNED, "roads"),
    ]


async def test_older_event_of_the_same_producer_tells_nobody() -> None:
    rig = Rig()
    await rig.apply(created("r1", None), assigned("r1", "roads", seq=2, attempt=2))
    before = set(rig.deliveries.items)
    await rig.apply(assigned("r1", "roads", seq=1, attempt=1))
    assert set(rig.deliveries.items) == before
    assert rig.reports.views["r1"].sequences["/fieldreports/routing"] == 2


async def test_news_before_the_report_waits_for_the_contact() -> None:
    rig = Rig()
    await rig.apply(assigned("r1", "roads"))
    assert rig.deliveries.of("r1", recipient_kind=RecipientKind.RESIDENT) == []
    assert [w.type for w in rig.reports.views["r1"].awaiting_contact] == ["report.assigned"]
    await rig.apply(created("r1", {"email": "n@example.org"}))
    told = rig.deliveries.of("r1", recipient_kind=RecipientKind.RESIDENT, channel=Channel.EMAIL)
    assert sorted(d.news.template for d in told) == ["resident/assigned", "resident/received"]
    assert rig.reports.views["r1"].awaiting_contact == []


async def test_reannounced_report_reaches_nobody_twice() -> None:
    rig = Rig()
    await rig.apply(created("r1", {"email": "n@example.org"}), assigned("r1", "roads"))
    before = set(rig.deliveries.items)
    await rig.apply(
        created("r1", {"email": "n@example.org"}, seq=2), assigned("r1", "roads", seq=2)
    )
    assert set(rig.deliveries.items) == before


async def test_assignment_to_ioc_tells_operators_of_triage() -> None:
    rig = Rig()
    await rig.apply(assigned("r1", "ioc"))
    [entry] = rig.deliveries.of("r1", recipient_kind=RecipientKind.OPERATOR)
    assert (entry.recipient, entry.news.template) == ("operator:ioc", "operator/triage")


async def test_agency_is_reached_through_the_catalogue_with_names_in_context() -> None:
    rig = Rig()
    await rig.apply(catalog([ROADS]), created("r1", None), assigned("r1", "roads"))
    [email] = rig.deliveries.of("r1", recipient_kind=RecipientKind.AGENCY, channel=Channel.EMAIL)
    assert email.recipient == "d***@roads.example"
    assert (email.news.context["agency_name"], email.news.context["category_name"]) == (
        "Sở GT",
        "Ổ gà",
    )
    assert email.news.context["report_url"] == "https://city/r/r1"


async def test_agency_without_contacts_gets_a_log_entry_marked_unreachable() -> None:
    rig = Rig()
    await rig.apply(assigned("r1", "roads"))
    [entry] = rig.deliveries.of("r1", recipient_kind=RecipientKind.AGENCY)
    assert (entry.channel, entry.no_contact) == (Channel.LOG, True)


async def test_resolution_tells_the_resident_but_not_the_agency() -> None:
    rig = Rig()
    await rig.apply(catalog([ROADS]), created("r1", None), assigned("r1", "roads"))
    await rig.apply(resolved("r1", "roads"))
    told = {
        d.recipient_kind for d in rig.deliveries.of("r1") if d.news.event_type == "report.resolved"
    }
    assert told == {RecipientKind.RESIDENT}


async def test_notify_emits_no_events_but_commits_each_one() -> None:
    rig = Rig()
    await rig.apply(created("r1", {"email": "n@example.org"}), assigned("r1", "roads"))
    assert (rig.transactions.emitted, rig.transactions.commits) == ([], 2)


async def test_recategorized_tells_nobody_and_streams_nothing() -> None:
    rig = Rig()
    await rig.apply(created("r1", {"email": "n@example.org"}), assigned("r1", "roads"))
    before = (len(rig.deliveries.of("r1")), len(rig.reports.changes["r1"]))
    await rig.apply(recategorized("r1", "streetlight"))
    assert (len(rig.deliveries.of("r1")), len(rig.reports.changes["r1"])) == before


async def test_recategorized_keeps_the_corrected_category_for_later_news() -> None:
    rig = Rig()
    await rig.apply(created("r1", None), recategorized("r1", "streetlight"))
    assert rig.reports.views["r1"].category == "streetlight"
