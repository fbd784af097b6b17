"""A newer catalogue tells agencies of the assignments they missed. Fakes, no I/O."""

from __future__ import annotations

from datetime import timedelta

from services.notify.domain.model import Channel, DeliveryStatus, RecipientKind
from shared.catalog import AgencyRefV1
from tests.notify.fakes import Rig
from tests.notify.harness import assigned, catalog, resolved

PARKS = AgencyRefV1(
    id="parks", name={"vi": "Công viên", "en": "Parks"}, kind="department",
    contacts={"webhook_url": "http://hooks.example/parks"},
)  # fmt: skip


def agency_channels(rig: Rig, report: str) -> list[Channel]:
    return sorted(d.channel for d in rig.deliveries.of(report, recipient_kind=RecipientKind.AGENCY))


async def test_catalogue_arriving_late_tells_the_agency_with_the_new_names() -> None:
    rig = Rig()
    await rig.apply(assigned("r1", "parks"), catalog([PARKS]))
    [hook] = rig.deliveries.of("r1", channel=Channel.WEBHOOK)
    [log] = rig.deliveries.of("r1", channel=Channel.LOG, recipient_kind=RecipientKind.AGENCY)
    assert (hook.status, hook.news.dedupe_key) == (DeliveryStatus.PENDING, log.news.dedupe_key)
    assert hook.news.context["agency_name"] == "Công viên"
    assert (log.no_contact, rig.wakeups) == (False, 1)


async def test_catalogue_arriving_again_creates_nothing_more() -> None:
    rig = Rig()
    await rig.apply(assigned("r1", "parks"), catalog([PARKS], version=1))
    await rig.apply(catalog([PARKS], version=2))
    assert agency_channels(rig, "r1") == [Channel.LOG, Channel.WEBHOOK]


async def test_older_catalogue_is_ignored() -> None:
    rig = Rig()
    await rig.apply(catalog([], version=2), assigned("r1", "parks"), catalog([PARKS], version=1))
    assert agency_channels(rig, "r1") == [Channel.LOG]
    assert rig.catalogs.copy is not None
    assert rig.catalogs.copy.version == 2


async def test_report_that_moved_on_is_not_backfilled() -> None:
    rig = Rig()
    await rig.apply(assigned("r1", "parks"), resolved("r1", "parks"), catalog([PARKS]))
    assert agency_channels(rig, "r1") == [Channel.LOG]


async def test_catalogue_does_not_reach_back_beyond_the_window() -> None:
    rig = Rig()
    await rig.apply(assigned("r1", "parks"))
    rig.now += timedelta(hours=25)
    await rig.apply(catalog([PARKS]))
    assert agency_channels(rig, "r1") == [Channel.LOG]


async def test_backfill_switched_off_tells_nobody() -> None:
    rig = Rig(backfill_hours=0)
    await rig.apply(assigned("r1", "parks"), catalog([PARKS]))
    assert agency_channels(rig, "r1") == [Channel.LOG]


async def test_agency_still_without_contacts_stays_marked_unreachable() -> None:
    rig = Rig()
    await rig.apply(assigned("r1", "parks"), catalog([PARKS.model_copy(update={"contacts": {}})]))
    [log] = rig.deliveries.of("r1", recipient_kind=RecipientKind.AGENCY)
    assert log.no_contact
