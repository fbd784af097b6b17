"""Events on the real broker become the summary, scoreboard, series, categories, grid and CSV."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.analytics.rebuild import rebuild
from tests.analytics.conftest import Running, load
from tests.analytics.factory import EXPECTED_STATUS
from tests.support import eventually


@pytest.fixture(scope="module")
async def loaded(running: Running) -> Running:
    await load(running)
    return running


async def get(running: Running, path: str, **params: Any) -> Any:
    response = await running.client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_summary_counts_and_mean_times(loaded: Running) -> None:
    s = await get(loaded, "/api/v1/stats/summary")
    assert s["by_status"] == EXPECTED_STATUS
    assert (s["total"], s["by_agency"], s["by_category"]) == (
        5,
        {"dot": 2, "water": 2},
        {"pothole": 3, "flood": 2},
    )
    assert (s["mean_time_to_assign_s"], s["mean_time_to_resolve_s"]) == (450.0, 3000.0)
    assert (s["resolved_on_time_pct"], s["overdue_now"], s["mean_rating"]) == (66.7, 1, 3.0)


async def test_scoreboard_numbers_per_agency(loaded: Running) -> None:
    body = await get(loaded, "/api/v1/stats/scoreboard", lang="en")
    dot, water = sorted(body["items"], key=lambda r: r["agency_id"])
    assert dot == {
        "agency_id": "dot",
        "agency_name": "Department of Transport",
        "received": 2,
        "resolved": 2,
        "resolved_on_time_pct": 50.0,
        "median_time_to_resolve_s": 3900.0,
        "p90_time_to_resolve_s": 5100.0,
        "backlog": 0,
        "overdue_now": 0,
        "mean_rating": 3.0,
    }
    assert (water["received"], water["resolved"], water["backlog"], water["overdue_now"]) == (
        2,
        1,
        1,
        1,
    )


async def test_scoreboard_sorts_by_any_column(loaded: Running) -> None:
    asc = await get(loaded, "/api/v1/stats/scoreboard", sort="resolved_on_time_pct", order="asc")
    desc = await get(loaded, "/api/v1/stats/scoreboard", sort="backlog", order="desc")
    assert [r["agency_id"] for r in asc["items"]] == ["dot", "water"]
    assert [r["agency_id"] for r in desc["items"]] == ["water", "dot"]


async def test_filters_apply_to_statistics(loaded: Running) -> None:
    by_day = await get(
        loaded, "/api/v1/stats/summary", **{"from": "2025-03-04", "to": "2025-03-04"}
    )
    by_agency = await get(loaded, "/api/v1/stats/summary", agency="water", category="flood")
    assert (by_day["total"], by_day["by_status"]) == (1, {"resolved": 1})
    assert (by_agency["total"], by_agency["resolved"]) == (2, 1)


async def test_timeseries_per_day_and_week(loaded: Running) -> None:
    day = await get(loaded, "/api/v1/stats/timeseries", interval="day")
    week = await get(loaded, "/api/v1/stats/timeseries", interval="week")
    assert day["items"] == [
        {"period": "2025-03-03", "created": 4, "resolved": 2},
        {"period": "2025-03-04", "created": 1, "resolved": 1},
    ]
    assert week["items"] == [{"period": "2025-03-03", "created": 5, "resolved": 3}]


async def test_categories_use_catalog_names(loaded: Running) -> None:
    body = await get(loaded, "/api/v1/stats/categories", lang="vi")
    assert [(r["category"], r["category_name"], r["received"]) for r in body["items"]] == [
        ("pothole", "Ổ gà", 3),
        ("flood", "Ngập", 2),
    ]


async def test_grid_counts_per_cell(loaded: Running) -> None:
    body = await get(loaded, "/api/v1/stats/grid", cell=0.05)
    assert sorted(c["count"] for c in body["cells"]) == [2, 3]
    assert body["cell_deg"] == 0.05


async def test_grid_cell_size_is_capped(loaded: Running) -> None:
    small = await get(loaded, "/api/v1/stats/grid", cell=0.0000001)
    large = await get(loaded, "/api/v1/stats/grid", cell=5)
    one = await get(loaded, "/api/v1/stats/grid", cell=0.05, limit=1)
    assert (small["cell_deg"], large["cell_deg"]) == (0.001, 1.0)
    assert (one["cells_total"], one["truncated"], [c["count"] for c in one["cells"]]) == (
        2,
        True,
        [3],
    )


async def test_scoreboard_csv_matches_json(loaded: Running) -> None:
    params = {"sort": "agency_id", "order": "asc", "lang": "en"}
    response = await loaded.client.get("/api/v1/stats/scoreboard.csv", params=params)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    items = (await get(loaded, "/api/v1/stats/scoreboard", **params))["items"]
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="scoreboard.csv"'
    assert rows == [{k: "" if v is None else str(v) for k, v in item.items()} for item in items]
    assert [(r["agency_id"], r["received"], r["resolved_on_time_pct"]) for r in rows] == [
        ("dot", "2", "50.0"),
        ("water", "2", "100.0"),
    ]


# The JSON list each table's CSV has one row per item of.
TABLE_ITEMS = {"scoreboard": "items", "categories": "items", "timeseries": "items", "grid": "cells"}


async def test_every_table_as_csv_has_one_row_per_json_item(loaded: Running) -> None:
    for table, key in TABLE_ITEMS.items():
        items = (await get(loaded, f"/api/v1/stats/{table}"))[key]
        by_param = await loaded.client.get(f"/api/v1/stats/{table}", params={"format": "csv"})
        by_path = await loaded.client.get(f"/api/v1/stats/{table}.csv")
        assert by_param.headers["content-type"].startswith("text/csv"), table
        assert by_param.text == by_path.text, table
        rows = list(csv.DictReader(io.StringIO(by_param.text)))
        assert len(rows) == len(items) > 0, table
        assert rows[0] == {k: "" if items[0][k] is None else str(items[0][k]) for k in rows[0]}


async def test_summary_csv_lists_every_number_and_group(loaded: Running) -> None:
    summary = await get(loaded, "/api/v1/stats/summary")
    response = await loaded.client.get("/api/v1/stats/summary.csv")
    rows = {r["metric"]: r["value"] for r in csv.DictReader(io.StringIO(response.text))}
    assert (rows["total"], rows["overdue_now"], rows["mean_rating"]) == ("5", "1", "3.0")
    assert (rows["by_status.resolved"], rows["by_agency.water"]) == ("2", "2")
    assert rows["by_category.flood"] == str(summary["by_category"]["flood"])
    assert not any(m.startswith("agency_names") for m in rows)


async def test_invalid_date_range_is_422(loaded: Running) -> None:
    response = await loaded.client.get(
        "/api/v1/stats/summary", params={"from": "2025-03-05", "to": "2025-03-01"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": {"code": "validation_error", "message": "`from` is after `to`"}
    }


def samples(text: str) -> dict[tuple[str, str], float]:
    """`/metrics` values by (sample name, agency label)."""
    return {
        (sample.name, sample.labels.get("agency", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_business_gauges_on_metrics(loaded: Running) -> None:
    """Values of a refresh that began after everything was projected (not an earlier one's)."""
    refreshed = "analytics_gauges_refreshed_timestamp_seconds", ""

    async def refreshed_after(since: float) -> dict[tuple[str, str], float] | None:
        values = samples((await loaded.client.get("/metrics")).text)
        return values if values.get(refreshed, 0) > since else None

    start = time.time()
    first = await eventually(lambda: refreshed_after(start), timeout=20, what="a refresh")
    values = await eventually(
        lambda: refreshed_after(first[refreshed]), timeout=20, what="a later refresh"
    )
    assert (
        values[("analytics_open_reports", "water")],
        values[("analytics_open_reports", "dot")],
    ) == (1, 0)
    assert (
        values[("analytics_on_time_ratio", "dot")],
        values[("analytics_on_time_ratio", "water")],
    ) == (0.5, 1.0)
    assert values[("analytics_overdue_assignments", "dot")] == 0
    assert round(values[("analytics_on_time_ratio_overall", "")], 3) == 0.667


async def test_rebuild_gives_the_same_numbers_as_live(loaded: Running) -> None:
    result = await rebuild(loaded.settings, timeout_s=90)
    assert result["caught_up"]
    assert result["rebuilt"]["summary"]["by_status"] == EXPECTED_STATUS
    assert result["rebuilt"] == result["live"]


async def test_dashboard_language_follows_accept_language(loaded: Running) -> None:
    en = await loaded.client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    vi = await loaded.client.get("/", headers={"Accept-Language": "fr, vi;q=0.5"})
    forced = await loaded.client.get("/", params={"lang": "vi"}, headers={"Accept-Language": "en"})
    assert ('<html lang="en">' in en.text, '<html lang="vi">' in vi.text) == (True, True)
    assert '<html lang="vi">' in forced.text
    assert en.headers["vary"] == "Accept-Language"


async def test_dashboard_assets_are_served_locally(loaded: Running) -> None:
    page = (await loaded.client.get("/")).text
    script = await loaded.client.get("/static/app.js")
    assert "https://" not in page
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert script.status_code == 200


# A window holding every day: the same statistics, computed over the facts of its days instead
# of from the rollups.
EVERY_DAY = {"from": "2000-01-01", "to": "2100-12-31"}
ROLLUP_READS = [
    ("summary", {}),
    ("scoreboard", {"sort": "agency_id", "order": "asc"}),
    ("categories", {}),
    ("timeseries", {"interval": "week"}),
    ("summary", {"agency": "water"}),
    ("scoreboard", {"category": "pothole"}),
    ("categories", {"area": "hue"}),
]


@pytest.mark.parametrize(("table", "params"), ROLLUP_READS)
async def test_rollups_answer_as_the_facts_of_every_day_do(
    loaded: Running, table: str, params: dict[str, str]
) -> None:
    from_rollups = await get(loaded, f"/api/v1/stats/{table}", **params)
    from_facts = await get(loaded, f"/api/v1/stats/{table}", **params, **EVERY_DAY)
    if table == "timeseries":  # the window's buckets run from its first day: compare the data
        from_facts["items"] = [p for p in from_facts["items"] if p["created"] or p["resolved"]]
        from_rollups["items"] = [p for p in from_rollups["items"] if p["created"] or p["resolved"]]
    assert from_rollups == from_facts


async def test_the_grid_of_any_cell_size_matches_the_rollups_cells(loaded: Running) -> None:
    default = await get(loaded, "/api/v1/stats/grid")
    other = await get(loaded, "/api/v1/stats/grid", cell=0.011)
    windowed = await get(loaded, "/api/v1/stats/grid", **EVERY_DAY)
    assert default == windowed
    assert sum(c["count"] for c in other["cells"]) == sum(c["count"] for c in default["cells"])
