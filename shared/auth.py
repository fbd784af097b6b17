"""Bearer-token checking shared by the services that serve staff: JWTs issued by routing.

Tokens are HS256 JWTs with issuer, audience, expiry and scopes; `alg: none` and any other
algorithm are refused. Scopes: `staff` (bound to one agency through the `agency_id` claim),
`operator` (IOC operators) and `admin` (jurisdiction changes).
"""
# No `from __future__ import annotations` here: FastAPI must resolve the closure's
# `Depends(scheme)` at runtime, which postponed annotations prevent.

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

import jwt
from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from pydantic import BaseModel, Field

from shared.errors import Forbidden, Unauthorized
from shared.events import utcnow
from shared.settings import DEV_JWT_SECRET

ALGORITHM = "HS256"
SCOPES = {
    "staff": "Agency staff: their agency's assignments",
    "operator": "IOC operators: triage, manual assignment, duplicates, spam",
    "admin": "Jurisdiction administration",
}


class AuthConfig(BaseModel):
    secret: str = DEV_JWT_SECRET
    issuer: str = "fieldreports-routing"
    audience: str = "fieldreports"
    ttl: timedelta = timedelta(hours=8)


class Principal(BaseModel):
    """Who is calling: a staff account of one agency, an operator or an admin."""

    sub: str
    scopes: list[str] = Field(default_factory=list)
    agency_id: str | None = None

    def has(self, scope: str) -> bool:
        return scope in self.scopes


class TokenCodec:
    def __init__(self, config: AuthConfig) -> None:
        self.config = config

    def issue(self, principal: Principal) -> str:
        now = utcnow()
        claims = {
            "sub": principal.sub,
            "scope": " ".join(principal.scopes),
            "agency_id": principal.agency_id,
            "iss": self.config.issuer,
            "aud": self.config.audience,
            "iat": now,
            "exp": now + self.config.ttl,
        }
        return jwt.encode(claims, self.config.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self.config.secret,
                algorithms=[ALGORITHM],
                audience=self.config.audience,
                issuer=self.config.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"token refused: {exc}", code="invalid_token") from exc
        return Principal(
            sub=claims["sub"],
            scopes=str(claims.get("scope", "")).split(),
            agency_id=claims.get("agency_id"),
        )


def principal_dependency(
    codec: TokenCodec, token_url: str = "/api/v1/auth/token"
) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: `Security(dep, scopes=[...])` requires any one of the scopes."""
    scheme = OAuth2PasswordBearer(tokenUrl=token_url, scopes=SCOPES, auto_error=False)

    async def current(
        security_scopes: SecurityScopes, token: Annotated[str | None, Depends(scheme)]
    ) -> Principal:
        if not token:
            raise Unauthorized("bearer token required")
        principal = codec.verify(token)
        wanted = security_scopes.scopes
        if wanted and not any(principal.has(s) for s in wanted):
            raise Forbidden(f"needs one of the scopes: {', '.join(wanted)}")
        return principal

    return current
