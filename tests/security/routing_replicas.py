"""Two routing replicas on one database (production mode, a bootstrap admin), with HTTP clients
that come from chosen addresses: what the routing security tests run against."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from services.routing.api.deps import RoutingApi
from services.routing.app import build_app
from services.routing.settings import RoutingSettings
from tests.conftest import Infra
from tests.support import eventually, unique, wait_ready

ADMIN_PASSWORD = "Hue-river 2026 perfume!"
STAFF_PASSWORD = "staff-password-123"


@dataclass
class Replica:
    app: FastAPI
    asgi: Any  # the app inside its lifespan

    @property
    def api(self) -> RoutingApi:
        api: RoutingApi = self.app.state.routing
        return api

    def client(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.asgi, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://routing")


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    async def logged_in() -> httpx.Response | None:
        r = await login(client, "admin", ADMIN_PASSWORD)
        return r if r.status_code == 200 else None

    r = await eventually(logged_in, what="bootstrap admin can log in")
    return bearer(r.json()["access_token"])


@contextlib.asynccontextmanager
async def replicas(infra: Infra, count: int = 2, **overrides: Any) -> AsyncIterator[list[Replica]]:
    common = {
        "environment": "production",
        "jwt_secret": "k3Vq9-Zr2xLpT7wNc4Ey8uHb1GmSd6Jo",
        "bootstrap_admin_password": ADMIN_PASSWORD,
        "kafka_bootstrap_servers": infra.kafka,
        "kafka_topic_prefix": unique("sec") + ".",
        "mongodb_uri": infra.mongodb_uri,
        "mongodb_db": unique("routing_"),
        **overrides,
    }
    async with contextlib.AsyncExitStack() as stack:
        started = []
        for _ in range(count):
            app: FastAPI = build_app(RoutingSettings(**common))
            manager = await stack.enter_async_context(
                LifespanManager(app, startup_timeout=60, shutdown_timeout=30)
            )
            replica = Replica(app, manager.app)
            async with replica.client() as client:
                await wait_ready(client)
            started.append(replica)
        yield started
