"""The category suggestion through the running intake (real broker and database): the suggest
endpoint, the create path without a category, the triage recorded in report.created, operators'
corrections, and retraining on demand."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from shared.auth import AuthConfig, Principal, TokenCodec
from shared.events import ReportRecategorizedV1, Topic, utcnow
from tests.intake.conftest import Running, lifecycle, report_body
from tests.support import eventually

TAUGHT = "bạt quảng cáo rách mắc trên dây điện"  # the seed model says garbage


def _staff(scope: str) -> dict[str, str]:
    token = TokenCodec(AuthConfig()).issue(Principal(sub="ioc-1", scopes=[scope]))
    return {"Authorization": f"Bearer {token}"}


async def _create(client: httpx.AsyncClient, **over: Any) -> httpx.Response:
    body = report_body(lat=16.3 + uuid.uuid4().int % 1000 / 1e5, **over)
    return await client.post("/api/v1/reports", json=body)


async def _created_payload(run: Running, report_id: str) -> dict[str, Any]:
    doc = await run.report_doc(report_id)
    payload: dict[str, Any] = doc["created_payload"]
    return payload


async def test_suggest_returns_three_active_categories_with_names(running: Running) -> None:
    async with running.client() as client:
        r = await client.post(
            "/api/v1/triage/suggest",
            json={"description": "Đèn đường hỏng, tối om", "language": "en"},
        )
    assert r.status_code == 200, r.text
    first = r.json()["suggestions"][0]
    assert len(r.json()["suggestions"]) == 3
    assert (first["category"], first["name"]) == ("streetlight", "Broken street light")


async def test_suggest_understands_vietnamese_without_diacritics(running: Running) -> None:
    async with running.client() as client:
        r = await client.post("/api/v1/triage/suggest", json={"description": "o ga giua duong"})
    assert r.json()["suggestions"][0]["category"] == "pothole"


async def test_suggest_refuses_blank_and_too_long_text(running: Running) -> None:
    async with running.client() as client:
        blank = await client.post("/api/v1/triage/suggest", json={"description": "  "})
        long = await client.post("/api/v1/triage/suggest", json={"description": "x" * 4001})
    assert (blank.status_code, long.status_code) == (422, 422)


async def test_create_without_category_takes_a_confident_suggestion(running: Running) -> None:
    async with running.client() as client:
        r = await _create(client, category=None, description="Ổ gà rất sâu giữa đường, xe ngã")
    assert r.status_code == 201, r.text
    assert r.json()["category"] == "pothole"
    triage = (await _created_payload(running, r.json()["id"]))["triage"]
    assert triage["chosen_by"] == "model"


async def test_create_without_category_is_refused_when_unsure(running: Running) -> None:
    async with running.client() as client:
        r = await _create(client, category=None, description="có vấn đề")
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "category_required"
    assert len(error["details"]) == 3


async def test_report_created_carries_the_triage_and_flags_a_dispute(running: Running) -> None:
    async with running.client() as client:
        r = await _create(
            client,
            category="streetlight",
            description="Ổ gà to giữa đường",
            attributes={"pole_id": "7"},
        )
    triage = (await _created_payload(running, r.json()["id"]))["triage"]
    assert triage["chosen_by"] == "resident"
    assert triage["disputed"] is True
    assert triage["suggestions"][0]["category"] == "pothole"
    assert (await running.report_doc(r.json()["id"]))["triage"]["model_version"]


async def _recategorize(run: Running, report_id: str, category: str) -> None:
    data = ReportRecategorizedV1(
        report_id=report_id, previous_category="garbage", category=category, by="ioc", at=utcnow()
    )
    await run.publish(lifecycle(report_id, Topic.REPORT_RECATEGORIZED, 90, data))


async def test_a_correction_changes_the_view_and_becomes_a_training_example(
    running: Running,
) -> None:
    async with running.client() as client:
        rid = (await _create(client, category="garbage", description=TAUGHT)).json()["id"]
        await _recategorize(running, rid, "streetlight")

        async def corrected() -> bool:
            view = (await client.get(f"/api/v1/reports/{rid}")).json()
            return bool(view["category"] == "streetlight")

        await eventually(corrected, what="view follows the correction")
        view = (await client.get(f"/api/v1/reports/{rid}")).json()
    example = await running.db.triage_examples.find_one({"_id": rid})
    assert view["category_name"] == "Đèn đường hỏng"
    assert example is not None
    assert (example["category"], example["source"]) == (
        "streetlight",
        "operator",
    )


async def test_retrain_needs_an_operator_or_admin(running: Running) -> None:
    async with running.client() as client:
        anonymous = await client.post("/api/v1/triage/retrain")
        staff = await client.post("/api/v1/triage/retrain", headers=_staff("staff"))
    assert (anonymous.status_code, staff.status_code) == (401, 403)


async def test_after_retraining_a_correction_changes_the_suggestion(running: Running) -> None:
    probe = {"description": "bạt quảng cáo rách vướng dây điện đầu hẻm"}
    async with running.client() as client:
        before = (await client.post("/api/v1/triage/suggest", json=probe)).json()
        rid = (await _create(client, category="garbage", description=TAUGHT)).json()["id"]
        await _recategorize(running, rid, "streetlight")

        async def stored() -> bool:
            return await running.db.triage_examples.find_one({"_id": rid}) is not None

        await eventually(stored, what="training example stored")
        result = await client.post("/api/v1/triage/retrain", headers=_staff("operator"))
        after = (await client.post("/api/v1/triage/suggest", json=probe)).json()
    assert result.status_code == 200, result.text
    assert result.json()["promoted"] is True, result.json()["why"]
    assert before["suggestions"][0]["category"] == "garbage"
    assert after["suggestions"][0]["category"] == "streetlight"
    assert after["model_version"] == result.json()["model_version"]
