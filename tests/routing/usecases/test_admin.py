"""Jurisdiction administration and catalogue publication over fakes."""

from __future__ import annotations

from typing import Any

import pytest

from services.routing.domain.assignment import Actor
from services.routing.domain.errors import AreaRefused, InvalidJurisdiction
from tests.routing.fakes import Routing

ADMIN = Actor("admin")


async def _seeded() -> Routing:
    r = Routing()
    await r.admin.seed_and_publish()
    return r


async def test_first_start_stores_the_seed_and_publishes_its_catalogue() -> None:
    r = await _seeded()
    [catalog] = r.tx.of_type("jurisdiction.catalog")
    assert (catalog.subject, catalog.sequence, catalog.data["version"]) == ("catalog", 1, 1)
    assert r.jurisdiction_store.document is not None


async def test_seeding_makes_demo_logins_per_agency() -> None:
    r = await _seeded()
    agencies = {a.id for a in r.jurisdiction_store.document.agencies}  # type: ignore[union-attr]
    assert agencies | {"operator", "admin"} == set(r.account_store.rows)


async def test_a_change_bumps_the_version_and_republishes() -> None:
    r = await _seeded()
    doc = (await r.admin.current()).model_dump(mode="json")
    applied = await r.admin.replace({**doc, "notice": "changed"}, ADMIN)
    assert (applied.version, applied.notice) == (2, "changed")
    assert [e.sequence for e in r.tx.of_type("jurisdiction.catalog")] == [1, 2]


async def test_an_invalid_document_is_refused_with_every_problem() -> None:
    r = await _seeded()
    doc = (await r.admin.current()).model_dump(mode="json")
    doc["rules"].append({"id": "bad", "category": "nope", "area": None, "agency": "ghost"})
    with pytest.raises(InvalidJurisdiction) as info:
        await r.admin.replace(doc, ADMIN)
    assert len(info.value.errors) == 2
    assert r.tx.commits == 1  # only the seed


async def test_a_geometry_the_database_refuses_keeps_the_old_version() -> None:
    r = await _seeded()
    r.jurisdiction_store.refuse = AreaRefused("phu-hoi", "bad loop")
    doc = (await r.admin.current()).model_dump(mode="json")
    with pytest.raises(InvalidJurisdiction, match="area phu-hoi: geometry refused"):
        await r.admin.replace(doc, ADMIN)
    assert ((await r.admin.current()).version, r.tx.rollbacks) == (1, 1)


async def test_public_categories_are_the_active_ones() -> None:
    r = await _seeded()
    assert all(c.active for c in await r.admin.active_categories())


async def test_routing_starts_only_once_the_demo_logins_exist() -> None:
    r = Routing()
    r.jurisdictions.seeded.clear()
    seen: list[bool] = []
    add = r.account_store.add_if_absent

    async def recording(*args: Any, **kw: Any) -> None:
        seen.append(r.jurisdictions.seeded.is_set())
        await add(*args, **kw)

    r.account_store.add_if_absent = recording  # type: ignore[method-assign]
    await r.admin.seed_and_publish()
    assert (set(seen), r.jurisdictions.seeded.is_set()) == ({False}, True)


def _with_pothole_ward_rule(doc: dict[str, Any]) -> dict[str, Any]:
    rule = {"id": "pothole@phu-hoi", "category": "pothole", "area": "phu-hoi"}
    return {**doc, "rules": [*doc["rules"], {**rule, "agency": "phu-hoi-ward"}]}


async def test_a_change_routes_from_memory_once_committed() -> None:
    r = await _seeded()
    doc = (await r.admin.current()).model_dump(mode="json")
    await r.admin.replace(_with_pothole_ward_rule(doc), ADMIN)
    reads = r.jurisdiction_store.reads
    a = await r.route(category="pothole")
    assert (a.agency_id, r.jurisdictions.current().version) == ("phu-hoi-ward", 2)
    assert r.jurisdiction_store.reads == reads


async def test_a_refused_change_is_not_held() -> None:
    r = await _seeded()
    r.jurisdiction_store.refuse = AreaRefused("phu-hoi", "bad loop")
    doc = (await r.admin.current()).model_dump(mode="json")
    with pytest.raises(InvalidJurisdiction):
        await r.admin.replace(_with_pothole_ward_rule(doc), ADMIN)
    assert (await r.route(category="pothole")).agency_id == "transport-dept"


async def test_another_replicas_change_is_held_after_a_refresh() -> None:
    r = await _seeded()
    other = Routing(jurisdiction_store=r.jurisdiction_store)
    doc = (await other.admin.current()).model_dump(mode="json")
    await other.admin.replace(_with_pothole_ward_rule(doc), ADMIN)
    assert (await r.route("r1", category="pothole")).agency_id == "transport-dept"
    assert (await r.jurisdictions.refresh()).version == 2
    assert (await r.route("r2", category="pothole")).agency_id == "phu-hoi-ward"


async def test_a_refresh_with_no_change_reads_only_the_version() -> None:
    r = await _seeded()
    reads = r.jurisdiction_store.reads
    await r.jurisdictions.refresh()
    assert (r.jurisdiction_store.reads, r.jurisdictions.current().version) == (reads, 1)
