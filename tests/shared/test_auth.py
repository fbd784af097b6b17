import base64
import json
from datetime import timedelta

import jwt
import pytest
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from shared.auth import AuthConfig, Principal, TokenCodec
from shared.errors import DomainError, Unauthorized, status_of
from shared.http import domain_error_response

CODEC = TokenCodec(AuthConfig())
STAFF = Principal(sub="hepco", scopes=["staff"], agency_id="hepco")


def test_issued_token_verifies_to_the_same_principal() -> None:
    assert CODEC.verify(CODEC.issue(STAFF)) == STAFF


def test_token_for_another_audience_is_refused() -> None:
    other = TokenCodec(AuthConfig(audience="elsewhere"))
    with pytest.raises(Unauthorized) as err:
        CODEC.verify(other.issue(STAFF))
    assert err.value.code == "invalid_token"


def test_expired_token_is_refused() -> None:
    stale = TokenCodec(AuthConfig(ttl=timedelta(seconds=-10)))
    with pytest.raises(Unauthorized, match="expired"):
        CODEC.verify(stale.issue(STAFF))


def test_unsigned_alg_none_token_is_refused() -> None:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims = jwt.decode(CODEC.issue(STAFF), options={"verify_signature": False})
    forged = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
    with pytest.raises(Unauthorized, match="alg"):
        CODEC.verify(forged)


def test_token_signed_with_another_secret_is_refused() -> None:
    other = TokenCodec(AuthConfig(secret="another-secret-of-enough-length-0123456789"))
    with pytest.raises(Unauthorized, match="Signature verification failed"):
        CODEC.verify(other.issue(STAFF))


def _app_with_operator_route() -> TestClient:
    from typing import Annotated

    from fastapi import FastAPI, Security

    from shared.auth import principal_dependency

    app = FastAPI()
    current = principal_dependency(CODEC)

    @app.exception_handler(DomainError)
    async def refuse(_: object, exc: DomainError) -> JSONResponse:
        return domain_error_response(exc, status_of(exc, {}))

    @app.get("/ops")
    async def ops(p: Annotated[Principal, Security(current, scopes=["operator"])]) -> str:
        return p.sub

    return TestClient(app)


def test_dependency_reads_the_bearer_header_and_checks_scope() -> None:
    client = _app_with_operator_route()
    operator = CODEC.issue(Principal(sub="op", scopes=["operator"]))
    assert client.get("/ops", headers={"Authorization": f"Bearer {operator}"}).json() == "op"


def test_dependency_refuses_missing_token_with_401_and_wrong_scope_with_403() -> None:
    client = _app_with_operator_route()
    staff = CODEC.issue(STAFF)
    missing = client.get("/ops")
    wrong_scope = client.get("/ops", headers={"Authorization": f"Bearer {staff}"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "unauthorized")
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert (wrong_scope.status_code, wrong_scope.json()["error"]["code"]) == (403, "forbidden")
