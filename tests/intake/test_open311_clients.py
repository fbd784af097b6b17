"""Requests shaped exactly like FixMyStreet's Open311 client (mysociety/fixmystreet,
perllib/Open311.pm and perllib/Open311/*.pm) sends them, and our answers read the way it reads
them: XML only, XML::Simple with ForceArray on service/attribute/value/request/error and
GroupTags (services>service, attributes>attribute, values>value, service_requests>request,
errors>error), W3C-DTF dates, any 2xx is success."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from services.intake.settings import DEV_OPEN311_KEY
from tests.intake.conftest import Running
from tests.support import unique

BASE = "/open311/v2/"  # FixMyStreet appends 'requests.xml' etc. to the endpoint it is given
W3CDTF = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def fms_post(**extra: object) -> dict[str, object]:
    """send_service_request: jurisdiction_id and api_key added by _request, lat/long truncated
    to 6 places, the extended description, a split name with an empty last name, every extra
    field as attribute[...] (cobrand ones included), FixMyStreet's own `deviceid` spelling."""
    return {
        "jurisdiction_id": "hue.example",
        "api_key": DEV_OPEN311_KEY,
        "service_code": "streetlight",
        "description": "Đèn tắt\n\nĐèn ở góc đường tắt cả tuần\n\nhttps://fms.example/report/42\n",
        "first_name": "An",
        "last_name": "",
        "email": "an@example.org",
        "phone": "0905111222",
        "lat": "16.470123",
        "long": "107.600456",
        "attribute[pole_id]": "P-9",
        "attribute[issues]": "dark",
        "attribute[fixmystreet_id]": "42",
        "attribute[report_url]": "https://fms.example/report/42",
        "attribute[easting]": "",
        "deviceid": "fms",
        **extra,
    }


def simple(xml: bytes) -> ET.Element:
    """The answer must be well-formed XML with a declaration, as XML::Simple parses it."""
    assert xml.startswith(b"<?xml")
    return ET.fromstring(xml)


def request_id_from_post(root: ET.Element) -> str | None:
    """$obj->{request}->[0]->{service_request_id}, kept only when it is a plain value."""
    assert root.tag == "service_requests"
    first = root.findall("request")[0]
    rid = first.findtext("service_request_id")
    return rid or None


async def test_send_service_request_returns_a_request_id_in_request_zero(
    running: Running,
) -> None:
    async with running.client() as client:
        r = await client.post(BASE + "requests.xml", data=fms_post())
    assert 200 <= r.status_code < 300, r.text
    rid = request_id_from_post(simple(r.content))
    assert rid
    stored = await running.report_doc(rid)
    assert stored["lat"] == 16.470123
    assert stored["attributes"] == {"pole_id": "P-9", "issues": ["dark"]}  # extras dropped
    assert stored["description"].startswith("Đèn tắt\n\n")


async def test_token_lookup_answers_request_zero_service_request_id(running: Running) -> None:
    """The fallback get_service_request_id_from_token: tokens/$token.xml."""
    async with running.client() as client:
        rid = request_id_from_post(
            simple((await client.post(BASE + "requests.xml", data=fms_post())).content)
        )
        r = await client.get(f"{BASE}tokens/{rid}.xml", params={"jurisdiction_id": "hue.example"})
    assert simple(r.content).findall("request")[0].findtext("service_request_id") == rid


async def test_several_media_urls_keep_the_first(running: Running) -> None:
    form = fms_post(media_url=["https://fms.example/p/1.jpeg", "https://fms.example/p/2.jpeg"])
    async with running.client() as client:
        rid = request_id_from_post(
            simple((await client.post(BASE + "requests.xml", data=form)).content)
        )
    assert rid
    assert (await running.report_doc(rid))["media_url"] == "https://fms.example/p/1.jpeg"


async def test_refusal_is_an_errors_document_process_error_can_read(running: Running) -> None:
    """_process_error: $obj->{error} is a list of {code, description}; no 2xx means failure."""
    async with running.client() as client:
        bad_key = await client.post(BASE + "requests.xml", data=fms_post(api_key="nope"))
        no_coords = await client.post(
            BASE + "requests.xml",
            data=fms_post(lat=None, long=None, address_id="#NOTPINPOINTED#"),
        )
    for r, code in ((bad_key, "403"), (no_coords, "400")):
        assert not 200 <= r.status_code < 300
        root = simple(r.content)
        assert root.tag == "errors"
        [error] = root.findall("error")
        assert error.findtext("code") == code
        assert error.findtext("description")


async def test_service_list_reads_like_populate_service_list(running: Running) -> None:
    async with running.client() as client:
        root = simple(
            (await client.get(BASE + "services.xml", params={"jurisdiction_id": "x"})).content
        )
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    assert {"pothole", "streetlight"} <= set(services)
    for service in services.values():
        assert service.findtext("service_name", "").strip()
        assert (service.findtext("metadata") or "").lower() in {"true", "false"}
    assert services["streetlight"].findtext("metadata") == "true"
    assert services["streetlight"].findtext("group") == "lighting"


async def test_definition_reads_like_add_meta_to_contact(running: Running) -> None:
    """ref $meta->{attributes} eq 'ARRAY', sorted by `order` numerically, `required` and
    `variable` as 'true'/'false', values as value/{key,name}."""
    async with running.client() as client:
        root = simple((await client.get(BASE + "services/streetlight.xml")).content)
    attributes = root.findall("attributes/attribute")
    assert attributes
    ordered = sorted(attributes, key=lambda a: int(a.findtext("order") or "x"))
    assert [a.findtext("code") for a in ordered] == ["pole_id", "issues"]
    for a in attributes:
        assert a.findtext("required") in {"true", "false"}
        assert a.findtext("variable") in {"true", "false"}
        assert a.findtext("datatype")
        assert a.find("description") is not None
    values = ordered[1].findall("values/value")
    assert [(v.findtext("key"), v.findtext("name")) for v in values] == [
        ("dark", "Tắt"),
        ("flicker", "Nhấp nháy"),
    ]


async def test_get_service_requests_window_reads_like_get_service_requests(
    running: Running,
) -> None:
    """create_problems: start_date/end_date in W3C-DTF with `Z`; each request needs
    service_request_id, lat, long, a W3C-DTF updated_datetime inside the window, a status
    that map_state knows (open/closed) and service_code/service_name/description."""
    async with running.client() as client:
        rid = request_id_from_post(
            simple((await client.post(BASE + "requests.xml", data=fms_post())).content)
        )
        now = datetime.now(UTC).replace(microsecond=0)
        params = {
            "jurisdiction_id": "hue.example",
            "start_date": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_date": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        r = await client.get(BASE + "requests.xml", params=params)
        by_id = await client.get(
            BASE + "requests.xml",
            params={"jurisdiction_id": "hue.example", "service_request_id": f"{rid},{unique()}"},
        )
    found = {q.findtext("service_request_id"): q for q in simple(r.content).findall("request")}
    request = found[rid]
    for name in ("updated_datetime", "requested_datetime"):
        value = request.findtext(name) or ""
        assert W3CDTF.match(value), value
        assert params["start_date"] <= _utc(value) <= params["end_date"]
    assert float(request.findtext("lat") or 0) == 16.470123
    assert float(request.findtext("long") or 0) == 107.600456
    assert request.findtext("status") in {"open", "closed"}
    assert request.findtext("service_code") == "streetlight"
    assert request.findtext("service_name")
    assert request.findtext("description")
    assert [q.findtext("service_request_id") for q in simple(by_id.content).findall("request")] == [
        rid
    ]


def _utc(value: str) -> str:
    """FixMyStreet re-formats the time in UTC before comparing it as a string."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")
