"""Finding 10: control characters are refused at the edge in every text field (422 in the
resident API, 400 in Open311), and the Open311 XML writer emits well-formed XML for any stored
text (data stored before the rule)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from services.intake.api.open311 import serializers as s
from services.intake.domain.report import Report
from services.intake.schemas import ReopenIn
from services.intake.settings import DEV_OPEN311_KEY
from shared.events import Status
from tests.intake.conftest import report_body
from tests.security.intake_stack import edge_client

BAD = "Ổ gà\x00\x07\x1b lớn"


@pytest.fixture(scope="module")
def edge() -> TestClient:
    return edge_client()


@pytest.mark.parametrize(
    "over",
    [
        {"description": BAD},
        {"address": BAD},
        {"category": "pot\x01hole"},
        {"contact": {"name": BAD}},
        {"attributes": {"depth": BAD}},
        {"attributes": {"kinds": ["ok", "bad\x0b"]}},
        {"description": "lone surrogate \ud800"},
    ],
)
def test_a_json_create_with_a_control_character_is_422(edge: TestClient, over: Any) -> None:
    body = json.dumps(report_body(**over))  # JSON escapes them: \u0000, \ud800
    answer = edge.post(
        "/api/v1/reports", content=body, headers={"Content-Type": "application/json"}
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_error")


def test_a_multipart_create_with_a_control_character_is_422(edge: TestClient) -> None:
    fields = {"category": "pothole", "lat": "16.46", "lon": "107.59", "description": BAD}
    answer = edge.post("/api/v1/reports", data=fields, files=[("x", ("", b"", "text/plain"))])
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize(
    ("path", "body"), [("rating", {"rating": 5, "comment": BAD}), ("reopen", {"reason": BAD})]
)
def test_a_rating_comment_or_reopen_reason_with_a_control_character_is_422(
    edge: TestClient, path: str, body: dict[str, Any]
) -> None:
    answer = edge.post(f"/api/v1/reports/r-1/{path}", json=body)
    assert answer.status_code == 422, answer.text


def test_newlines_and_tabs_stay_allowed() -> None:
    assert ReopenIn(reason="line one\r\n\tline two").reason == "line one\r\n\tline two"


@pytest.mark.parametrize(
    "field", ["description", "address_string", "first_name", "attribute[depth]", "account_id"]
)
def test_an_open311_post_with_a_control_character_is_400_valid_xml(
    edge: TestClient, field: str
) -> None:
    form = {
        "api_key": DEV_OPEN311_KEY,
        "service_code": "pothole",
        "lat": "16.46",
        "long": "107.59",
        "description": "ổ gà",
        field: BAD,
    }
    answer = edge.post("/open311/v2/requests.xml", data=form)
    assert answer.status_code == 400
    assert ET.fromstring(answer.content).find("error/code").text == "400"  # type: ignore[union-attr]


def test_stored_text_with_control_characters_still_makes_well_formed_xml() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    report = Report(
        id="r-1",
        category="pothole",
        category_name={"vi": "Ổ gà\x01"},
        lat=16.46,
        lon=107.59,
        description=BAD,
        address="12 \x0cLê Lợi",
        language="vi",
        channel="api",
        status=Status.ASSIGNED,
        status_at=at,
        created_at=at,
        updated_at=at,
        announced_at=at,
        status_notes="note\x1f",
    )
    xml = s.render("xml", "service_requests", [s.service_request(report, "vi", None)]).body
    request = ET.fromstring(xml).find("request")
    assert request is not None
    assert request.findtext("description") == "Ổ gà lớn"
    assert request.findtext("address") == "12 Lê Lợi"
