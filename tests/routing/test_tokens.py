"""Staff tokens: issued by the password flow, refused when forged, expired or misaddressed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt

from shared.events import utcnow
from shared.settings import DEV_JWT_SECRET
from tests.routing.conftest import Routing, bearer


def _token(**changes: Any) -> str:
    now = utcnow()
    claims = {
        "sub": "phu-hoi-ward",
        "scope": "staff",
        "agency_id": "phu-hoi-ward",
        "iss": "fieldreports-routing",
        "aud": "fieldreports",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    claims.update(changes)
    return jwt.encode(claims, DEV_JWT_SECRET, algorithm="HS256")


async def _status_with(routing: Routing, token: str) -> int:
    r = await routing.client.get("/api/v1/assignments", headers=bearer(token))
    return r.status_code


async def test_valid_token_accepted(routing: Routing) -> None:
    assert await _status_with(routing, _token()) == 200


async def test_wrong_audience_refused(routing: Routing) -> None:
    assert await _status_with(routing, _token(aud="someone-else")) == 401


async def test_expired_token_refused(routing: Routing) -> None:
    assert await _status_with(routing, _token(exp=utcnow() - timedelta(minutes=5))) == 401


async def test_alg_none_refused(routing: Routing) -> None:
    unsigned = jwt.encode({"sub": "x", "scope": "operator"}, "", algorithm="none")
    assert await _status_with(routing, unsigned) == 401


async def test_wrong_password_refused(routing: Routing) -> None:
    r = await routing.client.post(
        "/api/v1/auth/token", data={"username": "ioc", "password": "nope"}
    )
    assert r.status_code == 401
