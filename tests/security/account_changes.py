"""One routing replica (production mode, a bootstrap admin) on a topic prefix shared with the
service under test, and the account changes an admin makes there: what the revocation tests of
notify and intake (tests/security/test_*_revocation.py) run against."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tests.conftest import Infra
from tests.security.routing_replicas import (
    STAFF_PASSWORD,
    Replica,
    admin_headers,
    login,
    replicas,
)
from tests.support import unique

JWT_SECRET = "k3Vq9-Zr2xLpT7wNc4Ey8uHb1GmSd6Jo"  # the routing replicas' key
OPERATOR = {"password": STAFF_PASSWORD, "scopes": ["operator"], "agency_id": None}


@dataclass
class Logins:
    """Admin actions on routing's logins, through its API."""

    routing: Replica
    admin: dict[str, str]

    async def operator(self, password: str = STAFF_PASSWORD) -> tuple[str, str]:
        """A new operator login and a token of it."""
        username = unique("op.")
        await self.put(username, {**OPERATOR, "password": password})
        return username, await self.token(username, password)

    async def token(self, username: str, password: str = STAFF_PASSWORD) -> str:
        async with self.routing.client() as client:
            r = await login(client, username, password)
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token

    async def put(self, username: str, body: dict[str, object]) -> None:
        async with self.routing.client() as client:
            r = await client.put(
                f"/api/v1/admin/accounts/{username}", json=body, headers=self.admin
            )
        assert r.status_code == 204, r.text

    async def delete(self, username: str) -> None:
        async with self.routing.client() as client:
            r = await client.delete(f"/api/v1/admin/accounts/{username}", headers=self.admin)
        assert r.status_code == 204, r.text

    async def demote(self, username: str) -> None:
        """The operator becomes staff of one agency (no operator scope any more)."""
        await self.put(username, {**OPERATOR, "scopes": ["staff"], "agency_id": "phu-hoi-ward"})


@contextlib.asynccontextmanager
async def routing_on(infra: Infra, prefix: str) -> AsyncIterator[Logins]:
    """Routing publishing to `prefix` (whose topics exist already)."""
    async with replicas(infra, 1, kafka_topic_prefix=prefix) as [replica]:
        async with replica.client() as client:
            admin = await admin_headers(client)
        yield Logins(replica, admin)
