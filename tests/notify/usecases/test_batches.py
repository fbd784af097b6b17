"""A polled batch applied in one unit of work: the same effects as its events one by one, each
delivery once, catalogue events where they stand. Fakes, no I/O."""

from __future__ import annotations

from typing import Any

from services.notify.domain.model import Channel, DeliveryStatus, RecipientKind
from shared.catalog import AgencyRefV1, CatalogV1
from shared.events import CloudEvent, Status
from tests.notify.fakes import FakeHandoff, Rig
from tests.notify.harness import assigned, catalog, created, resolved

PARKS = AgencyRefV1(
    id="parks", name={"vi": "Công viên", "en": "Parks"}, kind="department",
    contacts={"webhook_url": "http://hooks.example/parks"},
)  # fmt: skip
EMAIL = {"email": "n@example.org"}


def state(rig: Rig) -> tuple[Any, ...]:
    """What the events left: each delivery (minus its sealed address), views, streams."""
    deliveries = sorted(
        (d.id, d.channel, d.status, d.news.template, d.no_contact)
        for d in rig.deliveries.items.values()
    )
    views = {
        i: (v.status, v.agency_id, v.sequences, v.stream_n) for i, v in rig.reports.views.items()
    }
    changes = {
        i: [(c.n, c.status, c.agency_id) for c in cs] for i, cs in rig.reports.changes.items()
    }
    return deliveries, views, changes


async def test_a_batch_leaves_what_its_events_leave_one_by_one() -> None:
    events = [
        created("r1", EMAIL),
        assigned("r2", "roads"),  # before its report.created: waits for the contact
        assigned("r1", "roads"),
        created("r2", {"phone": "+84901112233"}),
        resolved("r1", "roads", seq=2),
        assigned("r1", "roads", seq=1),  # out of order: older than the resolution
        created("r1", EMAIL, seq=2),  # re-announced: the same news
    ]
    one_by_one, batched = Rig(), Rig()
    await one_by_one.apply(*events)
    await batched.apply_batch(*events)
    assert state(batched) == state(one_by_one)
    assert batched.transactions.commits == 1


async def test_report_created_and_assigned_in_one_batch_stream_both_changes() -> None:
    rig = Rig()
    await rig.apply_batch(created("r1", EMAIL), assigned("r1", "roads"))
    assert [(c.n, c.status) for c in rig.reports.changes["r1"]] == [
        (1, Status.RECEIVED),
        (2, Status.ASSIGNED),
    ]
    assert rig.reports.views["r1"].status is Status.ASSIGNED


async def test_same_news_twice_in_one_batch_is_recorded_once() -> None:
    rig = Rig()
    await rig.apply_batch(created("r1", EMAIL), created("r1", EMAIL, seq=2))
    emails = rig.deliveries.of("r1", channel=Channel.EMAIL)
    assert [d.news.template for d in emails] == ["resident/received"]


async def test_the_same_event_twice_in_one_batch_counts_once() -> None:
    event = assigned("r1", "roads")
    rig = Rig()
    await rig.apply_batch(event, event)
    assert len(rig.reports.changes["r1"]) == 1
    assert len(rig.deliveries.of("r1", recipient_kind=RecipientKind.AGENCY)) == 1


async def test_a_batch_wakes_the_worker_once_after_it_commits() -> None:
    rig = Rig()
    await rig.apply_batch(created("r1", EMAIL), created("r2", EMAIL))
    assert rig.wakeups == 1


async def test_a_batch_that_is_rolled_back_wakes_nobody() -> None:
    rig = Rig()
    await rig.apply_then_fail(created("r1", EMAIL))
    assert rig.wakeups == 0


async def test_assignment_before_the_catalogue_in_one_batch_is_backfilled() -> None:
    rig = Rig()
    await rig.apply_batch(assigned("r1", "parks"), catalog([PARKS]))
    [hook] = rig.deliveries.of("r1", channel=Channel.WEBHOOK)
    assert hook.status is DeliveryStatus.PENDING


async def test_assignment_after_the_catalogue_in_one_batch_uses_it() -> None:
    rig = Rig()
    await rig.apply_batch(catalog([PARKS]), assigned("r1", "parks"))
    [hook] = rig.deliveries.of("r1", channel=Channel.WEBHOOK)
    [log] = rig.deliveries.of("r1", channel=Channel.LOG, recipient_kind=RecipientKind.AGENCY)
    assert (hook.status, log.no_contact) == (DeliveryStatus.PENDING, False)


def _reports(n: int) -> list[CloudEvent]:
    return [created(f"r{i}", EMAIL) for i in range(n)]


async def test_events_read_the_catalogue_from_memory() -> None:
    rig = Rig()
    await rig.apply(catalog([PARKS]))
    loads = rig.catalogs.loads
    await rig.apply(*_reports(5), assigned("r1", "parks"))
    await rig.apply_batch(*_reports(5))
    assert rig.catalogs.loads == loads
    assert rig.deliveries.of("r1", channel=Channel.WEBHOOK)  # the catalogue in memory is used


async def test_a_catalogue_rolled_back_is_not_held() -> None:
    rig = Rig()
    await rig.apply(catalog([], version=1))
    await rig.apply_then_fail(catalog([PARKS], version=2))
    rig.catalogs.copy = None  # the fake does not roll back; the database would
    await rig.apply(assigned("r1", "parks"))
    assert rig.catalogue.version == 1
    assert rig.deliveries.of("r1", channel=Channel.WEBHOOK) == []


async def test_a_catalogue_another_replica_stored_is_read_after_a_while_and_backfilled() -> None:
    rig = Rig()
    await rig.apply(catalog([], version=1), assigned("r1", "parks"))
    rig.catalogs.copy = catalog([PARKS], version=2).payload(CatalogV1)
    await rig.apply(created("r2", None))
    assert rig.catalogue.version == 1  # trusted for a while
    rig.monotonic += 61
    await rig.apply(created("r3", None))
    assert rig.catalogue.version == 2
    [hook] = rig.deliveries.of("r1", channel=Channel.WEBHOOK)
    assert hook.status is DeliveryStatus.PENDING


async def test_before_any_catalogue_each_batch_looks_for_one() -> None:
    rig = Rig()
    await rig.apply(assigned("r1", "parks"))
    rig.catalogs.copy = catalog([PARKS]).payload(CatalogV1)
    await rig.apply(assigned("r2", "parks"))
    assert rig.deliveries.of("r2", channel=Channel.WEBHOOK)
    assert rig.deliveries.of("r1", channel=Channel.WEBHOOK)  # backfilled too


async def test_pending_deliveries_are_handed_to_the_worker_under_the_batch_lease() -> None:
    rig = Rig(handoff=FakeHandoff())
    await rig.apply_batch(created("r1", EMAIL), created("r2", EMAIL))
    [(lease, handed)] = rig.handoff.handed if rig.handoff else []
    assert sorted(d.news.report_id for d in handed) == ["r1", "r2"]
    assert all(d.status is DeliveryStatus.PENDING for d in handed)
    assert {rig.deliveries.leases[d.id].owner for d in handed} == {lease.owner}
    assert rig.wakeups == 0  # no claim needed


async def test_a_rolled_back_batch_hands_nothing_over() -> None:
    rig = Rig(handoff=FakeHandoff())
    await rig.apply_then_fail(created("r1", EMAIL))
    assert rig.handoff is not None
    assert rig.handoff.handed == []


async def test_a_worker_with_enough_handed_over_leaves_new_deliveries_to_the_claims() -> None:
    rig = Rig(handoff=FakeHandoff(room=False))
    await rig.apply_batch(created("r1", EMAIL))
    [email] = rig.deliveries.of("r1", channel=Channel.EMAIL)
    assert email.id not in rig.deliveries.leases  # claimable at once
    assert rig.wakeups == 1
