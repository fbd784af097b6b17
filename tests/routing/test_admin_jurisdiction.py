"""The admin API changes the jurisdiction of a running service and republishes the catalogue."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.routing.domain import jurisdiction
from shared.events import Topic
from tests.routing.conftest import PHU_HOI, Routing

GRAFFITI = {
    "code": "graffiti",
    "name": {"vi": "Vẽ bậy", "en": "Graffiti"},
    "group": "urban-order",
    "deadline_hours": 96,
}


@pytest.fixture(scope="module")
async def applied(routing: Routing) -> dict[str, Any]:
    """The demo document plus a ward rule for potholes and a new category, PUT once."""
    auth = await routing.auth("admin")
    doc = (await routing.client.get("/api/v1/admin/jurisdiction", headers=auth)).json()
    doc["categories"].append(GRAFFITI)
    doc["rules"].append(
        {
            "id": "pothole@phu-hoi",
            "category": "pothole",
            "area": "phu-hoi",
            "agency": "phu-hoi-ward",
        }
    )
    r = await routing.client.put("/api/v1/admin/jurisdiction", json=doc, headers=auth)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_change_bumps_version(applied: dict[str, Any]) -> None:
    assert applied["version"] == 2


async def test_new_rule_routes_without_restart(routing: Routing, applied: dict[str, Any]) -> None:
    event = await routing.publish_created("pothole", PHU_HOI)
    assert (await routing.assignment(event.subject))["agency_id"] == "phu-hoi-ward"


async def test_catalogue_republished_with_new_version(
    routing: Routing, applied: dict[str, Any]
) -> None:
    catalogs = await routing.events.wait(Topic.JURISDICTION_CATALOG, "catalog", count=2)
    latest = max(catalogs, key=lambda e: e.sequence)
    assert latest.sequence == 2
    assert "graffiti" in {c["code"] for c in latest.data["categories"]}


async def test_public_categories_follow_the_change(
    routing: Routing, applied: dict[str, Any]
) -> None:
    items = (await routing.client.get("/api/v1/categories")).json()["items"]
    assert "graffiti" in {c["code"] for c in items}


async def test_invalid_document_refused_with_every_problem(routing: Routing) -> None:
    auth = await routing.auth("admin")
    doc = (await routing.client.get("/api/v1/admin/jurisdiction", headers=auth)).json()
    doc["rules"].append({"id": "bad", "category": "nope", "area": None, "agency": "ghost"})
    doc["areas"][0]["geometry"]["coordinates"][0].pop()
    r = await routing.client.put("/api/v1/admin/jurisdiction", json=doc, headers=auth)
    assert r.status_code == 422
    assert len(r.json()["error"]["details"]) == 3


async def test_staff_cannot_change_jurisdiction(routing: Routing) -> None:
    auth = await routing.auth("phu-hoi-ward")
    r = await routing.client.put("/api/v1/admin/jurisdiction", json={}, headers=auth)
    assert r.status_code == 403


BOW_TIE = [[107.0, 16.0], [108.0, 17.0], [108.0, 16.0], [107.0, 17.0], [107.0, 16.0]]


async def _current(routing: Routing) -> dict[str, Any]:
    auth = await routing.auth("admin")
    return dict((await routing.client.get("/api/v1/admin/jurisdiction", headers=auth)).json())


async def test_self_intersecting_area_refused_422_naming_it(routing: Routing) -> None:
    doc = await _current(routing)
    doc["areas"][2]["geometry"]["coordinates"] = [BOW_TIE]
    r = await routing.client.put(
        "/api/v1/admin/jurisdiction", json=doc, headers=await routing.auth("admin")
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_jurisdiction")
    assert r.json()["error"]["details"][0].startswith(f"area {doc['areas'][2]['id']}: ring")


async def test_database_refusal_is_422_and_leaves_old_jurisdiction_in_force(
    routing: Routing, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Let a geometry through the domain check that the 2dsphere index refuses.
    monkeypatch.setattr(jurisdiction, "geometry_errors", lambda geometry: [])
    before = await _current(routing)
    doc = copy.deepcopy(before)
    doc["areas"][2]["geometry"]["coordinates"][0][1] = [107.6, 100.0]
    doc["categories"].append({**GRAFFITI, "code": "never-applied"})
    r = await routing.client.put(
        "/api/v1/admin/jurisdiction", json=doc, headers=await routing.auth("admin")
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_jurisdiction")
    assert r.json()["error"]["details"][0].startswith(f"area {doc['areas'][2]['id']}: geometry")
    areas = await routing.db["areas"].find({}, {"version": 1}).to_list()
    assert (await _current(routing)) == before
    assert {a["version"] for a in areas} == {before["version"]}
    assert len(areas) == len(before["areas"])
