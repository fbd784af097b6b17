"""Finding 4 (issue 12) in intake: a staff token ends with its account there too. Intake keeps
the versions routing announces (`auth.account_changed`) and `POST /api/v1/triage/retrain`
refuses an older token within seconds (Kafka delay + TOKEN_REVOCATION_REFRESH_S), with no
database read per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import Infra
from tests.security.account_changes import JWT_SECRET, Logins, routing_on
from tests.security.intake_stack import Isolated, running_intake
from tests.support import eventually

WITHIN_S = 10  # Kafka delay (outbox relay, consumer poll) + the 0.5 s refresh, with margin
TRAINED = {
    "version": 2,
    "model_version": "test-2",
    "promoted": False,
    "why": "not trained: the test's trainer",
    "metrics": {},
    "compared_with": {},
    "trained_on": {},
}


@pytest.fixture(scope="module")
async def stack(infra: Infra) -> AsyncIterator[tuple[Logins, Isolated]]:
    settings = {"jwt_secret": JWT_SECRET, "token_revocation_refresh_s": 0.5}
    async with running_intake(infra, "rev", **settings) as intake:

        async def trainer() -> dict[str, Any]:  # no child process: only the check is tested
            return TRAINED

        intake.app.state.intake.triage.trainer = trainer
        async with routing_on(infra, intake.prefix) as logins:
            yield logins, intake


async def _retrain(intake: Isolated, token: str) -> httpx.Response:
    async with intake.client() as client:
        headers = {"Authorization": f"Bearer {token}"}
        return await client.post("/api/v1/triage/retrain", headers=headers)


async def _refused(intake: Isolated, token: str) -> None:
    async def revoked() -> bool:
        r = await _retrain(intake, token)
        return r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"

    await eventually(revoked, timeout=WITHIN_S, interval=0.2, what="intake refuses the token")


async def test_a_deleted_logins_token_is_refused_by_retrain(stack: Any) -> None:
    logins, intake = stack
    username, token = await logins.operator()
    assert (await _retrain(intake, token)).status_code == 200
    await logins.delete(username)
    await _refused(intake, token)


async def test_a_demoted_logins_token_is_refused_by_retrain(stack: Any) -> None:
    logins, intake = stack
    username, token = await logins.operator()
    assert (await _retrain(intake, token)).status_code == 200
    await logins.demote(username)
    await _refused(intake, token)


async def test_the_versions_are_kept_in_intakes_database(stack: Any) -> None:
    logins, intake = stack
    username, _ = await logins.operator()
    await logins.delete(username)

    async def deletion_stored() -> dict[str, Any] | None:  # created: 1, deleted: 2
        found: dict[str, Any] | None = await intake.db.account_versions.find_one(
            {"_id": username, "token_version": 2}
        )
        return found

    doc = await eventually(deletion_stored, timeout=WITHIN_S, what="the deletion stored")
    assert set(doc) == {"_id", "token_version", "changed_at", "seen_at"}  # no scopes, no hash
