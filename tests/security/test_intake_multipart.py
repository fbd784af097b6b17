"""Finding 13: a malformed multipart body is a 400 in the common error shape (Open311: its error
list), on every multipart route, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.security.intake_stack import edge_client

BROKEN = [
    ("multipart/form-data; boundary=xyz", b"this is not multipart at all"),
    ("multipart/form-data; boundary=xyz", b"--xyz\r\nno-colon-header\r\n\r\nvalue\r\n--xyz--\r\n"),
    ("multipart/form-data", b"--xyz\r\n\r\n"),  # no boundary
]


@pytest.fixture(scope="module")
def edge() -> TestClient:
    return edge_client()


@pytest.mark.parametrize(("ctype", "body"), BROKEN)
def test_a_malformed_multipart_create_is_400(edge: TestClient, ctype: str, body: bytes) -> None:
    answer = edge.post("/api/v1/reports", content=body, headers={"Content-Type": ctype})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "malformed_body")


@pytest.mark.parametrize(("ctype", "body"), BROKEN)
def test_a_malformed_multipart_open311_post_is_400(
    edge: TestClient, ctype: str, body: bytes
) -> None:
    answer = edge.post("/open311/v2/requests.json", content=body, headers={"Content-Type": ctype})
    assert answer.status_code == 400
    assert answer.json()[0]["code"] == 400
