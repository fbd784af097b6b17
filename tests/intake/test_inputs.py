"""Bad input of every kind gives a 4xx in the common error shape; no public response leaks contact."""

from __future__ import annotations

import json

import pytest

from services.intake.app import build_app
from tests.intake.conftest import Running, report_body
from tests.support import unique

BAD_BODIES = {
    "lat out of range": report_body(lat=91),
    "lon out of range": report_body(lon=-181),
    "description too long": report_body(description="x" * 4001),
    "blank description": report_body(description="   "),
    "address too long": report_body(address="a" * 301),
    "bad email": report_body(contact={"email": "not-an-email"}),
    "bad language": report_body(language="fr"),
    "unknown field": report_body(secret=1),
    "empty category": report_body(category=""),
}


@pytest.mark.parametrize("case", BAD_BODIES)
async def test_bad_body_gives_422_in_common_shape(running: Running, case: str) -> None:
    async with running.client() as client:
        r = await client.post("/api/v1/reports", json=BAD_BODIES[case])
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


async def test_unknown_category_gives_422(running: Running) -> None:
    async with running.client() as client:
        r = await client.post("/api/v1/reports", json=report_body(category="volcano"))
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_category")


async def test_missing_required_attribute_gives_422(running: Running) -> None:
    async with running.client() as client:
        r = await client.post("/api/v1/reports", json=report_body(category="streetlight"))
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "attributes.pole_id"


async def test_malformed_json_gives_422(running: Running) -> None:
    async with running.client() as client:
        r = await client.post(
            "/api/v1/reports", content=b"{nope", headers={"content-type": "application/json"}
        )
    assert r.status_code == 422
    assert "error" in r.json()


async def test_unsupported_content_type_gives_415(running: Running) -> None:
    async with running.client() as client:
        r = await client.post(
            "/api/v1/reports", content=b"x", headers={"content-type": "text/plain"}
        )
    assert r.status_code == 415
    assert "error" in r.json()


async def test_unknown_report_gives_404(running: Running) -> None:
    async with running.client() as client:
        r = await client.get("/api/v1/reports/does-not-exist")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    "query",
    [
        "limit=101",
        "limit=0",
        "status=lost",
        "bbox=1,2,3",
        "bbox=10,10,5,5",
        "cursor=@@",
        "created_from=yesterday",
    ],
)
async def test_bad_feed_query_gives_422(running: Running, query: str) -> None:
    async with running.client() as client:
        r = await client.get(f"/api/v1/reports?{query}")
    assert r.status_code == 422
    assert "error" in r.json()


@pytest.mark.parametrize(
    "query", ["lat=100&lon=1", "lat=1", "lat=1&lon=1&radius_m=999999", "lat=1&lon=1&radius_m=-5"]
)
async def test_bad_nearby_query_gives_422(running: Running, query: str) -> None:
    async with running.client() as client:
        r = await client.get(f"/api/v1/reports/nearby?{query}")
    assert r.status_code == 422
    assert "error" in r.json()


async def test_rating_out_of_range_gives_422(running: Running) -> None:
    async with running.client() as client:
        rid = (await client.post("/api/v1/reports", json=report_body())).json()["id"]
        r = await client.post(f"/api/v1/reports/{rid}/rating", json={"rating": 6})
    assert r.status_code == 422


async def test_no_public_listing_contains_email_or_phone(running: Running) -> None:
    async with running.client() as client:
        created = await client.post("/api/v1/reports", json=report_body())
        rid = created.json()["id"]
        texts = [created.text]
        for url in (
            "/api/v1/reports",
            f"/api/v1/reports/{rid}",
            "/api/v1/reports/nearby?lat=16.4637&lon=107.5909",
            f"/open311/v2/requests/{rid}.json",
            f"/open311/v2/requests/{rid}.xml",
            "/open311/v2/requests.json",
        ):
            texts.append((await client.get(url)).text)
    blob = json.dumps(texts, ensure_ascii=False)
    assert "b@example.org" not in blob
    assert "4567" not in blob
    assert "Trần Thị B" not in blob


async def test_without_a_catalogue_create_answers_503(running: Running) -> None:
    import httpx

    from services.intake.settings import IntakeSettings

    # A second app on an empty database: its routes work on the lazy client, no lifespan needed.
    settings = IntakeSettings(**{**running.settings.model_dump(), "mongodb_db": unique("empty")})
    app = build_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        r = await client.post("/api/v1/reports", json=report_body())
    await app.state.runtime.client.close()
    assert (r.status_code, r.json()["error"]["code"]) == (503, "catalog_unavailable")


async def test_openapi_and_asyncapi_documents_render(running: Running) -> None:
    async with running.client() as client:
        openapi = await client.get("/openapi.json")
        asyncapi = await client.get("/asyncapi.json")
    assert openapi.status_code == 200
    assert asyncapi.status_code == 200
    assert "#/$defs/" not in openapi.text  # every $ref resolves inside the document
    assert "/open311/v2/requests.{fmt}" in openapi.json()["paths"]
