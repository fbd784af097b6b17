"""Finding 4 (issue 12) in notify: a staff token ends with its account there too. Routing emits
`auth.account_changed` in the transaction of each change; notify keeps the versions and its
delivery log refuses an older token within seconds (Kafka delay + TOKEN_REVOCATION_REFRESH_S),
with no database read per request. A notify started later replays the compacted topic."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from services.notify.app import build_app
from services.notify.settings import NotifySettings
from shared.kafka import all_topics, ensure_topics
from tests.conftest import Infra
from tests.security.account_changes import JWT_SECRET, Logins, routing_on
from tests.support import eventually, unique, wait_ready

WITHIN_S = 10  # Kafka delay (outbox relay, consumer poll) + the 0.5 s refresh, with margin


@contextlib.asynccontextmanager
async def notify_on(
    infra: Infra, prefix: str, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotifySettings(
        environment="test",
        kafka_bootstrap_servers=infra.kafka,
        kafka_topic_prefix=prefix,
        mongodb_uri=infra.mongodb_uri,
        mongodb_db=unique("notify_"),
        consumer_retry_backoff_s=0.05,
        jwt_secret=JWT_SECRET,
        token_revocation_refresh_s=0.5,
        **overrides,
    )
    app = build_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:
            await wait_ready(client)
            yield client


@pytest.fixture(scope="module")
async def stack(infra: Infra) -> AsyncIterator[tuple[Logins, httpx.AsyncClient, str]]:
    prefix = f"rev{uuid.uuid4().hex[:8]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    async with routing_on(infra, prefix) as logins, notify_on(infra, prefix) as notify:
        yield logins, notify, prefix


async def _log(notify: httpx.AsyncClient, token: str) -> httpx.Response:
    return await notify.get("/api/v1/notifications", headers={"Authorization": f"Bearer {token}"})


async def _refused(notify: httpx.AsyncClient, token: str) -> None:
    async def revoked() -> bool:
        r = await _log(notify, token)
        return r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"

    await eventually(revoked, timeout=WITHIN_S, interval=0.2, what="notify refuses the token")


async def test_a_deleted_logins_token_is_refused_by_the_delivery_log(stack: Any) -> None:
    logins, notify, _ = stack
    username, token = await logins.operator()
    assert (await _log(notify, token)).status_code == 200
    await logins.delete(username)
    await _refused(notify, token)


async def test_a_demoted_logins_token_is_refused_by_the_delivery_log(stack: Any) -> None:
    logins, notify, _ = stack
    username, token = await logins.operator()
    assert (await _log(notify, token)).status_code == 200
    await logins.demote(username)
    await _refused(notify, token)


async def test_after_a_password_change_only_the_new_token_works(stack: Any) -> None:
    logins, notify, _ = stack
    username, old = await logins.operator()
    await logins.put(username, {"password": "another-password-456", "scopes": ["operator"]})
    await _refused(notify, old)
    new = await logins.token(username, "another-password-456")
    assert (await _log(notify, new)).status_code == 200


async def test_a_notify_started_later_replays_the_revocations(stack: Any, infra: Infra) -> None:
    logins, notify, prefix = stack
    username, token = await logins.operator()
    await logins.delete(username)
    await _refused(notify, token)  # the change is on the topic
    # An empty database and a new consumer group: only the compacted topic knows the change.
    async with notify_on(infra, prefix, kafka_group_id=unique("late-notify")) as late:
        await _refused(late, token)
