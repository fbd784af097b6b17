"""Open311 GeoReport v2 round trips in JSON and XML, with the spec's errors."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from services.intake.settings import DEV_OPEN311_KEY
from tests.intake.conftest import Running
from tests.support import eventually, unique

BASE = "/open311/v2"
POST_FORM = {
    "api_key": DEV_OPEN311_KEY,
    "service_code": "streetlight",
    "lat": "16.47",
    "long": "107.6",
    "address_string": "12 Lê Lợi",
    "description": "Đèn tắt cả tuần",
    "email": "open311@example.org",
    "first_name": "An",
    "last_name": "Nguyễn",
    "phone": "0905111222",
    "attribute[pole_id]": "P-17",
    "attribute[issues][]": ["dark", "flicker"],
}


async def test_service_list_json_has_metadata_and_group(running: Running) -> None:
    async with running.client() as client:
        r = await client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"})
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    services = {s["service_code"]: s for s in r.json()}
    assert services["streetlight"]["metadata"] is True
    assert services["pothole"]["metadata"] is False
    assert services["streetlight"]["group"] == "lighting"
    assert services["streetlight"]["service_name"] == "Broken street light"


async def test_service_list_xml(running: Running) -> None:
    async with running.client() as client:
        r = await client.get(f"{BASE}/services.xml")
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    assert r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(r.content)
    assert root.tag == "services"
    assert root.find("service/service_code") is not None


async def test_definition_lists_attributes_with_values(running: Running) -> None:
    async with running.client() as client:
        j = (await client.get(f"{BASE}/services/streetlight.json")).json()
        x = ET.fromstring((await client.get(f"{BASE}/services/streetlight.xml")).content)
    assert [a["code"] for a in j["attributes"]] == ["pole_id", "issues"]
    assert j["attributes"][1]["datatype"] == "multivaluelist"
    assert [v.text for v in x.findall("attributes/attribute/values/value/key")] == [
        "dark",
        "flicker",
    ]


async def test_post_with_attributes_then_read_it_back(running: Running) -> None:
    async with running.client() as client:
        posted = await client.post(f"{BASE}/requests.json", data=POST_FORM)
        assert posted.status_code == 201, posted.text
        rid = posted.json()[0]["service_request_id"]
        one = (await client.get(f"{BASE}/requests/{rid}.json")).json()[0]
        xml = ET.fromstring((await client.get(f"{BASE}/requests/{rid}.xml")).content)
    assert (one["status"], one["service_code"], one["long"]) == ("open", "streetlight", 107.6)
    assert one["requested_datetime"].endswith("+00:00")
    assert xml.findtext("request/service_request_id") == rid
    stored = await running.report_doc(rid)
    assert stored["attributes"] == {"pole_id": "P-17", "issues": ["dark", "flicker"]}
    assert stored["channel"] == "open311"
    assert "open311@example.org" not in str(stored["created_payload"])


async def test_post_xml_answers_xml(running: Running) -> None:
    async with running.client() as client:
        r = await client.post(
            f"{BASE}/requests.xml",
            data={
                **POST_FORM,
                "service_code": "pothole",
                "attribute[pole_id]": "",
                "attribute[issues][]": [],
            },
        )
    assert r.status_code == 201, r.text
    assert ET.fromstring(r.content).findtext("request/service_request_id")


async def test_get_requests_filters_by_id_code_and_status(running: Running) -> None:
    async with running.client() as client:
        rid = (await client.post(f"{BASE}/requests.json", data=POST_FORM)).json()[0][
            "service_request_id"
        ]
        by_id = (await client.get(f"{BASE}/requests.json?service_request_id={rid},nope")).json()
        by_code = (
            await client.get(
                f"{BASE}/requests.json?service_code=streetlight&status=open&page_size=200"
            )
        ).json()
        closed = (
            await client.get(f"{BASE}/requests.json?service_code=streetlight&status=closed")
        ).json()
        future = (await client.get(f"{BASE}/requests.json?start_date=2099-01-01T00:00:00Z")).json()
    assert [r["service_request_id"] for r in by_id] == [rid]
    assert rid in {r["service_request_id"] for r in by_code}
    assert rid not in {r["service_request_id"] for r in closed}
    assert future == []


async def test_post_without_api_key_is_403_error_array(running: Running) -> None:
    form = {k: v for k, v in POST_FORM.items() if k != "api_key"}
    async with running.client() as client:
        j = await client.post(f"{BASE}/requests.json", data=form)
        x = await client.post(f"{BASE}/requests.xml", data={**form, "api_key": "wrong"})
    assert j.status_code == 403
    assert j.json()[0]["code"] == 403
    assert j.json()[0]["description"]
    assert x.status_code == 403
    assert ET.fromstring(x.content).findtext("error/code") == "403"


@pytest.mark.parametrize(
    "url",
    [f"{BASE}/requests/nope.json", f"{BASE}/services/volcano.json", f"{BASE}/requests/nope.xml"],
)
async def test_unknown_resource_is_404_error_array(running: Running, url: str) -> None:
    async with running.client() as client:
        r = await client.get(url)
    assert r.status_code == 404
    body = (
        r.json()[0]
        if url.endswith(".json")
        else {"code": ET.fromstring(r.content).findtext("error/code")}
    )
    assert str(body["code"]) == "404"


@pytest.mark.parametrize(
    "override",
    [
        {"lat": "", "long": ""},
        {"lat": "95"},
        {"service_code": "volcano"},
        {"attribute[pole_id]": ""},
        {"attribute[issues][]": ["smoke"]},
        {"description": ""},
        {"media_url": "javascript:alert(1)"},
    ],
)
async def test_bad_post_is_400_error_array(running: Running, override: dict[str, object]) -> None:
    async with running.client() as client:
        r = await client.post(f"{BASE}/requests.json", data={**POST_FORM, **override})
    assert r.status_code == 400, r.text
    assert r.json()[0]["code"] == 400


@pytest.mark.parametrize(
    "query", ["start_date=yesterday", "status=pending", "page_size=100000", "page=0"]
)
async def test_bad_query_is_400(running: Running, query: str) -> None:
    async with running.client() as client:
        r = await client.get(f"{BASE}/requests.json?{query}")
    assert r.status_code == 400
    assert r.json()[0]["code"] == 400


async def test_discovery_lists_both_formats(running: Running) -> None:
    async with running.client() as client:
        j = (await client.get(f"{BASE}/discovery.json")).json()
        x = await client.get(f"{BASE}/discovery.xml")
    assert j["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert ET.fromstring(x.content).findtext("endpoints/endpoint/specification")


async def test_token_resolves_to_the_request_id(running: Running) -> None:
    async with running.client() as client:
        rid = (await client.post(f"{BASE}/requests.json", data=POST_FORM)).json()[0][
            "service_request_id"
        ]
        r = await client.get(f"{BASE}/tokens/{rid}.json")
    assert r.json() == [{"service_request_id": rid, "token": rid}]


async def test_lifecycle_fills_agency_expected_datetime_and_status_notes(running: Running) -> None:
    from tests.intake.test_lifecycle import assigned, resolved

    async with running.client() as client:
        rid = (await client.post(f"{BASE}/requests.json", data=POST_FORM)).json()[0][
            "service_request_id"
        ]
        await running.publish(assigned(rid))
        await running.publish(resolved(rid))

        async def closed() -> dict[str, object] | None:
            item = (await client.get(f"{BASE}/requests/{rid}.json")).json()[0]
            return item if item["status"] == "closed" and item["agency_responsible"] else None

        item = await eventually(closed, what="open311 request closed with agency")
    assert item["agency_responsible"] == "Agency roads"
    assert item["status_notes"] == "Đã vá"
    assert str(item["expected_datetime"]).endswith("+00:00")


async def test_post_retried_with_idempotency_key_makes_one_request(running: Running) -> None:
    headers = {"Idempotency-Key": unique("o311-")}
    async with running.client() as client:
        first = await client.post(f"{BASE}/requests.json", data=POST_FORM, headers=headers)
        again = await client.post(f"{BASE}/requests.xml", data=POST_FORM, headers=headers)
        other = await client.post(
            f"{BASE}/requests.json",
            data={**POST_FORM, "description": "một việc khác"},
            headers=headers,
        )
    assert (first.status_code, again.status_code) == (201, 200)
    rid = first.json()[0]["service_request_id"]
    assert ET.fromstring(again.content).findtext("request/service_request_id") == rid
    assert await running.db.reports.count_documents({"_id": rid}) == 1
    assert (other.status_code, other.json()[0]["code"]) == (409, 409)


async def test_post_idempotency_key_is_scoped_to_the_client(running: Running) -> None:
    headers = {"Idempotency-Key": unique("o311-")}
    async with running.client() as one, running.client() as two:
        a = await one.post(f"{BASE}/requests.json", data=POST_FORM, headers=headers)
        b = await two.post(f"{BASE}/requests.json", data=POST_FORM, headers=headers)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()[0]["service_request_id"] != b.json()[0]["service_request_id"]


async def test_creating_too_fast_is_429_error_array_with_retry_after(running: Running) -> None:
    burst = running.settings.rate_limit_create_burst
    async with running.client() as client:
        codes = [
            (await client.post(f"{BASE}/requests.json", data=POST_FORM)).status_code
            for _ in range(burst)
        ]
        refused = await client.post(f"{BASE}/requests.xml", data=POST_FORM)
    assert codes == [201] * burst
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert ET.fromstring(refused.content).findtext("error/code") == "429"


async def test_unknown_format_is_404_error_array(running: Running) -> None:
    async with running.client() as client:
        r = await client.get(f"{BASE}/services.txt")
    assert (r.status_code, r.json()[0]["code"]) == (404, 404)


async def test_invalid_page_size_is_400_not_422(running: Running) -> None:
    async with running.client() as client:
        r = await client.get(f"{BASE}/requests.json?page_size=0")
    assert (r.status_code, r.json()[0]["code"]) == (400, 400)
    assert "page_size must be between 1 and" in r.json()[0]["description"]
