"""Recording report events and keeping the catalogue, against in-memory stores."""

from __future__ import annotations

import functools

from services.analytics.usecases.events import KeepCatalog, RecordReportEvent
from shared.events import CatalogV1, CloudEvent, Topic
from shared.uow import FakeTransactions
from tests.analytics.factory import catalog_event, full_story
from tests.analytics.fakes import FakeCatalog, FakeEventLog


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


async def record(log: FakeEventLog, event: CloudEvent, wake: Wakes | None = None) -> None:
    use_case = RecordReportEvent(log, wake or Wakes())
    await FakeTransactions().run(lambda uow: use_case(event.type, event, uow))


async def test_an_event_is_kept_and_its_report_marked_for_projection() -> None:
    log, created = FakeEventLog(), full_story("r1").events[0]
    await record(log, created)
    assert [e.id for e in await log.events_of("r1")] == [created.id]
    assert log.dirty == {"r1": created.id}


async def test_the_sealed_contact_and_free_text_are_not_kept() -> None:
    log, created = FakeEventLog(), full_story("r1").events[0]
    await record(log, created)
    [kept] = await log.events_of("r1")
    assert {"contact_sealed", "description"} & set(kept.data) == set()
    assert kept.data["category"] == "pothole"


async def test_envelope_attributes_are_kept_for_ordering() -> None:
    log, assigned = FakeEventLog(), full_story("r1").events[1]
    await record(log, assigned)
    [kept] = await log.events_of("r1")
    assert (kept.topic, kept.source, kept.sequence, kept.time) == (
        Topic.REPORT_ASSIGNED,
        assigned.source,
        assigned.sequence,
        assigned.time,
    )


async def test_recording_wakes_the_projector() -> None:
    wake = Wakes()
    await record(FakeEventLog(), full_story().events[0], wake)
    assert wake.count == 1


async def test_recording_commits_once_and_emits_nothing() -> None:
    transactions, created = FakeTransactions(), full_story().events[0]
    use_case = RecordReportEvent(FakeEventLog(), Wakes())
    await transactions.run(lambda uow: use_case(created.type, created, uow))
    assert (transactions.commits, transactions.emitted, transactions.wakeups) == (1, [], 0)


def catalog(version: int, dot_en: str) -> CatalogV1:
    return catalog_event(version, dot_en).payload(CatalogV1)


async def keep(copy: FakeCatalog, *catalogs: CatalogV1) -> list[bool]:
    use_case, transactions = KeepCatalog(copy), FakeTransactions()
    kept: list[bool] = []
    for c in catalogs:
        kept.append(await transactions.run(functools.partial(use_case, c)))
    return kept


async def test_a_newer_catalogue_replaces_the_kept_one() -> None:
    copy = FakeCatalog()
    assert await keep(copy, catalog(1, "Old"), catalog(2, "New")) == [True, True]
    assert copy.catalog is not None
    assert copy.catalog.version == 2


async def test_an_older_or_repeated_catalogue_is_ignored() -> None:
    copy = FakeCatalog()
    assert await keep(copy, catalog(2, "New"), catalog(1, "Old"), catalog(2, "Again")) == [
        True,
        False,
        False,
    ]
    assert copy.catalog is not None
    assert copy.catalog.agencies[0].name["en"] == "New"


async def test_an_older_catalogue_is_refused_without_writing() -> None:
    copy = FakeCatalog(catalog(2, "New"))
    assert await keep(copy, catalog(1, "Old")) == [False]
    assert copy.saves == 0
