"""Public feed with filters and cursor paging; nearby open reports; support once per client;
the per-client rate limit on creates."""

from __future__ import annotations

import random

from tests.intake.conftest import Running, report_body
from tests.support import eventually


def far_point() -> dict[str, float]:
    """A point of its own, so tests do not see each other's reports."""
    return {"lat": round(random.uniform(-60, 60), 5), "lon": round(random.uniform(-170, 170), 5)}


async def test_feed_pages_with_an_opaque_cursor_inside_a_bbox(running: Running) -> None:
    p = far_point()
    bbox = f"{p['lon'] - 0.01},{p['lat'] - 0.01},{p['lon'] + 0.01},{p['lat'] + 0.01}"
    async with running.client() as client:
        ids = [
            (await client.post("/api/v1/reports", json=report_body(**p))).json()["id"]
            for _ in range(3)
        ]
        first = (await client.get(f"/api/v1/reports?bbox={bbox}&limit=2")).json()
        second = (
            await client.get(f"/api/v1/reports?bbox={bbox}&limit=2&cursor={first['next_cursor']}")
        ).json()
    seen = [r["id"] for r in first["items"] + second["items"]]
    assert seen == list(reversed(ids))
    assert second["next_cursor"] is None


async def test_feed_filters_by_category_and_status(running: Running) -> None:
    p = far_point()
    bbox = f"{p['lon'] - 0.01},{p['lat'] - 0.01},{p['lon'] + 0.01},{p['lat'] + 0.01}"
    async with running.client() as client:
        await client.post("/api/v1/reports", json=report_body(**p))
        await client.post("/api/v1/reports", json=report_body(category="garbage", **p))
        garbage = (
            await client.get(f"/api/v1/reports?bbox={bbox}&category=garbage&status=received")
        ).json()
        resolved = (await client.get(f"/api/v1/reports?bbox={bbox}&status=resolved")).json()
    assert [r["category"] for r in garbage["items"]] == ["garbage"]
    assert resolved["items"] == []


async def test_create_lists_a_nearby_open_report_of_the_category_as_possible_duplicate(
    running: Running,
) -> None:
    p = far_point()
    async with running.client() as client:
        first = (await client.post("/api/v1/reports", json=report_body(**p))).json()
        second = (
            await client.post(
                "/api/v1/reports", json=report_body(lat=p["lat"] + 0.0003, lon=p["lon"])
            )
        ).json()
    assert [d["id"] for d in second["possible_duplicates"]] == [first["id"]]
    assert 20 < second["possible_duplicates"][0]["distance_m"] < 50


async def test_nearby_lists_open_reports_within_radius(running: Running) -> None:
    p = far_point()
    async with running.client() as client:
        near = (await client.post("/api/v1/reports", json=report_body(**p))).json()["id"]
        await client.post("/api/v1/reports", json=report_body(lat=p["lat"] + 0.05, lon=p["lon"]))
        r = await client.get(
            f"/api/v1/reports/nearby?lat={p['lat']}&lon={p['lon']}&radius_m=500&category=pothole"
        )
    assert [x["id"] for x in r.json()["items"]] == [near]


async def test_support_counts_once_per_resident(running: Running) -> None:
    async with running.client() as client:
        rid = (await client.post("/api/v1/reports", json=report_body(**far_point()))).json()["id"]
        mine = {
            "X-Resident-Token": (await client.post("/api/v1/residents")).json()["resident_token"]
        }
        first = await client.post(f"/api/v1/reports/{rid}/support", headers=mine)
        again = await client.post(f"/api/v1/reports/{rid}/support", headers=mine)
    async with running.client() as other:
        theirs = {
            "X-Resident-Token": (await other.post("/api/v1/residents")).json()["resident_token"]
        }
        third = await other.post(f"/api/v1/reports/{rid}/support", headers=theirs)
    assert first.json()["supporters"] == 1
    assert again.status_code == 409
    assert third.json()["supporters"] == 2
    assert (
        await running.db.outbox.count_documents({"subject": rid, "type": "report.supported"}) == 2
    )


async def test_creating_too_fast_gives_429_with_retry_after(running: Running) -> None:
    burst = running.settings.rate_limit_create_burst
    async with running.client() as client:
        codes = [
            (await client.post("/api/v1/reports", json=report_body(**far_point()))).status_code
            for _ in range(burst + 1)
        ]
        last = await client.post("/api/v1/reports", json=report_body())
    assert codes == [201] * burst + [429]
    assert int(last.headers["Retry-After"]) >= 1
    assert last.json()["error"]["code"] == "rate_limited"


async def test_feed_times_without_a_zone_are_utc(running: Running) -> None:
    p = far_point()
    bbox = f"{p['lon'] - 0.01},{p['lat'] - 0.01},{p['lon'] + 0.01},{p['lat'] + 0.01}"
    async with running.client() as client:
        rid = (await client.post("/api/v1/reports", json=report_body(**p))).json()["id"]
        since = (await client.get(f"/api/v1/reports/{rid}")).json()["created_at"][:19]
        r = await client.get(f"/api/v1/reports?bbox={bbox}&created_from={since}")
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["items"]] == [rid]


async def test_nearby_widens_until_it_finds_reports_far_out_in_its_radius(
    running: Running,
) -> None:
    p = far_point()
    far = {"lat": p["lat"] + 0.03, "lon": p["lon"]}  # ~3.3 km north
    async with running.client() as client:
        rid = (await client.post("/api/v1/reports", json=report_body(**far))).json()["id"]
        near = await client.get("/api/v1/reports/nearby", params={**p, "radius_m": 3000})
        wide = await client.get("/api/v1/reports/nearby", params={**p, "radius_m": 4000})
    assert near.json()["items"] == []
    assert [x["id"] for x in wide.json()["items"]] == [rid]
    assert 3200 < wide.json()["items"][0]["distance_m"] < 3500


async def test_a_resolved_report_is_no_longer_nearby_nor_a_possible_duplicate(
    running: Running,
) -> None:
    from tests.intake.test_lifecycle import resolved

    p = far_point()
    async with running.client() as client:
        rid = (await client.post("/api/v1/reports", json=report_body(**p))).json()["id"]
        await running.publish(resolved(rid))

        async def gone() -> bool:
            r = await client.get("/api/v1/reports/nearby", params=p)
            return not r.json()["items"]

        await eventually(gone, what="resolved report out of nearby")
        again = (await client.post("/api/v1/reports", json=report_body(**p))).json()
    assert again["possible_duplicates"] == []
    assert "open_cells" not in await running.report_doc(rid)


async def test_a_report_stored_by_an_earlier_version_is_caught_up_and_found(
    running: Running,
) -> None:
    p = far_point()
    async with running.client() as client:
        rid = (await client.post("/api/v1/reports", json=report_body(**p))).json()["id"]
        # as an earlier version stored it: no lookup fields, a GeoJSON point instead
        await running.db.reports.update_one(
            {"_id": rid},
            {
                "$unset": {"open_cells": "", "upkeep_at": ""},
                "$set": {"location": {"type": "Point", "coordinates": [p["lon"], p["lat"]]}},
            },
        )
        before = (await client.get("/api/v1/reports/nearby", params=p)).json()["items"]
        assert await running.intake.upkeep.catch_up() >= 1
        after = (await client.get("/api/v1/reports/nearby", params=p)).json()["items"]
    assert before == []
    assert [x["id"] for x in after] == [rid]
    assert (await running.report_doc(rid))["upkeep_at"] is not None
