"""Keeping report events and the catalogue, against in-memory stores."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.analytics.usecases.catalog import CatalogMemory
from services.analytics.usecases.events import KeepCatalog, ProjectEvents
from shared.catalog import CatalogV1
from shared.events import CloudEvent, Topic
from shared.uow import FakeTransactions
from tests.analytics.factory import catalog_event, full_story
from tests.analytics.fakes import FakeCatalog, FakeFacts, FakeRollups

HUE = ZoneInfo("Asia/Ho_Chi_Minh")


async def project(facts: FakeFacts, *events: CloudEvent) -> FakeTransactions:
    use_case = ProjectEvents(
        facts, FakeRollups(), HUE, 0.01, ready=lambda: None, changed=lambda: None
    )
    transactions = FakeTransactions()
    await transactions.run(lambda uow: use_case([(e.type, e) for e in events], uow))
    return transactions


async def test_the_sealed_contact_and_free_text_are_not_kept() -> None:
    facts = FakeFacts()
    await project(facts, full_story("r1").events[0])
    [kept] = facts.docs["r1"].events
    assert {"contact_sealed", "description"} & set(kept.data) == set()
    assert kept.data["category"] == "pothole"


async def test_envelope_attributes_are_kept_for_ordering() -> None:
    facts, assigned = FakeFacts(), full_story("r1").events[1]
    await project(facts, assigned)
    [kept] = facts.docs["r1"].events
    assert (kept.topic, kept.source, kept.sequence) == (
        Topic.REPORT_ASSIGNED,
        assigned.source,
        assigned.sequence,
    )


async def test_times_are_kept_to_the_millisecond_like_the_database() -> None:
    facts, created = FakeFacts(), full_story("r1").events[0]
    created = created.model_copy(update={"time": datetime(2025, 3, 3, 1, 0, 0, 123456, UTC)})
    await project(facts, created)
    assert facts.docs["r1"].events[0].time.microsecond == 123000


async def test_projecting_commits_once_and_emits_nothing() -> None:
    transactions = await project(FakeFacts(), *full_story().events)
    assert (transactions.commits, transactions.emitted, transactions.wakeups) == (1, [], 0)


def catalog(version: int, dot_en: str) -> CatalogV1:
    return catalog_event(version, dot_en).payload(CatalogV1)


async def keep(copy: FakeCatalog, memory: CatalogMemory, *catalogs: CatalogV1) -> list[bool]:
    use_case, transactions = KeepCatalog(copy, memory), FakeTransactions()
    kept: list[bool] = []
    for c in catalogs:
        kept.append(await transactions.run(functools.partial(use_case, c)))
    return kept


async def test_a_newer_catalogue_replaces_the_kept_one() -> None:
    copy = FakeCatalog()
    assert await keep(copy, CatalogMemory(copy), catalog(1, "Old"), catalog(2, "New")) == [
        True,
        True,
    ]
    assert copy.catalog is not None
    assert copy.catalog.version == 2


async def test_an_older_or_repeated_catalogue_is_ignored() -> None:
    copy = FakeCatalog()
    memory = CatalogMemory(copy)
    kept = await keep(copy, memory, catalog(2, "New"), catalog(1, "Old"), catalog(2, "Again"))
    assert kept == [True, False, False]
    assert copy.catalog is not None
    assert copy.catalog.agencies[0].name["en"] == "New"


async def test_an_older_catalogue_is_refused_without_writing() -> None:
    copy = FakeCatalog(catalog(2, "New"))
    assert await keep(copy, CatalogMemory(copy), catalog(1, "Old")) == [False]
    assert copy.saves == 0


async def test_a_kept_catalogue_is_held_in_memory_once_committed() -> None:
    copy = FakeCatalog(catalog(1, "Old"))
    memory = CatalogMemory(copy)
    first = await memory.load()
    await keep(copy, memory, catalog(2, "New"))
    copy.catalog = None  # memory no longer reads the store
    held = await memory.load()
    assert (first and first.version, held and held.agencies[0].name["en"]) == (1, "New")


async def test_a_catalogue_that_fails_to_commit_is_not_held() -> None:
    copy = FakeCatalog(catalog(1, "Old"))
    memory = CatalogMemory(copy)
    use_case = KeepCatalog(copy, memory)

    async def fails(uow: object) -> None:
        await use_case(catalog(2, "New"), uow)  # type: ignore[arg-type]
        raise RuntimeError("the transaction aborts")

    with pytest.raises(RuntimeError):
        await FakeTransactions().run(fails)
    assert memory.held() is None


async def test_memory_reads_the_store_again_after_its_max_age() -> None:
    copy, now = FakeCatalog(catalog(1, "Old")), [0.0]
    memory = CatalogMemory(copy, max_age_s=60, monotonic=lambda: now[0])
    await memory.load()
    copy.catalog = catalog(3, "Other replica's")
    now[0] = 30.0
    first = await memory.load()
    now[0] = 61.0
    later = await memory.load()
    assert (first and first.version, later and later.version) == (1, 3)
