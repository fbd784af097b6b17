"""Bearer-token checking shared by the services that serve staff: JWTs issued by routing.

Tokens are HS256 JWTs with issuer, audience, expiry and scopes; `alg: none` and any other
algorithm are refused. Scopes: `staff` (bound to one agency through the `agency_id` claim),
`operator` (IOC operators) and `admin` (jurisdiction changes).

Revocation: each token carries its account's `ver` (token version) at issue; every change of
the account (password, scopes, agency, deletion) raises the version. `Revocations` holds the
current version of every account changed within a token's lifetime (older changes cannot
concern an unexpired token) and refuses tokens below it. It is refreshed by one small query at
most every `refresh` interval while tokens are being checked, so a change made elsewhere takes
effect within that interval, without a database read per request and with no cost when idle.
"""
# No `from __future__ import annotations` here: FastAPI must resolve the closure's
# `Depends(scheme)` at runtime, which postponed annotations prevent.

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from pydantic import BaseModel, Field

from shared.errors import Forbidden, Unauthorized, Unavailable
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
    token_version: int = Field(default=0, description="The account's version when issued")

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
            "ver": principal.token_version,
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
        version = claims.get("ver", 0)  # tokens issued before versions existed: 0
        if not isinstance(version, int) or isinstance(version, bool):
            raise Unauthorized("token refused: bad ver claim", code="invalid_token")
        return Principal(
            sub=claims["sub"],
            scopes=str(claims.get("scope", "")).split(),
            agency_id=claims.get("agency_id"),
            token_version=version,
        )


# Changes since this instant: [(username, current token version)]
ChangeFeed = Callable[[datetime], Awaitable[Sequence[tuple[str, int]]]]


class Revocations:
    """The current token version of the accounts changed within a token's lifetime.

    `changes(since)` reads the accounts changed at or after `since` (an indexed range query).
    Each refresh re-reads an `overlap` before the previous one began, so a change committed
    late or stamped by a replica whose clock lags is still seen.
    """

    def __init__(
        self,
        changes: ChangeFeed,
        *,
        ttl: timedelta,
        refresh: timedelta = timedelta(seconds=5),
        overlap: timedelta = timedelta(seconds=60),
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.changes = changes
        self.ttl, self.refresh_every, self.overlap, self.clock = ttl, refresh, overlap, clock
        self.monotonic = monotonic or time.monotonic
        self._floor: dict[str, tuple[int, float]] = {}  # username -> (version, noted at)
        self._since: datetime | None = None  # start of the last refresh
        self._fresh_until = float("-inf")
        self._lock = asyncio.Lock()

    def note(self, username: str, version: int) -> None:
        """A change made here (or read): tokens of `username` below `version` are refused."""
        known = self._floor.get(username, (0, 0.0))[0]
        self._floor[username] = (max(known, version), self.monotonic())

    def expire(self) -> None:
        """The next check refreshes first (tests; a forced re-read)."""
        self._fresh_until = float("-inf")

    async def check(self, principal: Principal) -> None:
        """`Unauthorized` when the account changed after the token was issued (or is gone)."""
        if self.monotonic() >= self._fresh_until:
            await self._refresh_once()
        if principal.token_version < self._floor.get(principal.sub, (0, 0.0))[0]:
            raise Unauthorized("token revoked: the account changed", code="token_revoked")

    async def _refresh_once(self) -> None:
        async with self._lock:  # concurrent checks share one refresh
            if self.monotonic() < self._fresh_until:
                return
            started, tick = self.clock(), self.monotonic()
            since = self._since - self.overlap if self._since else started - self.ttl - self.overlap
            try:
                rows = await self.changes(since)
            except Exception as exc:  # fail closed: a token is not accepted unchecked
                raise Unavailable("token revocations cannot be read", retry_after_s=2) from exc
            for username, version in rows:
                self.note(username, version)
            self._since, self._fresh_until = started, tick + self.refresh_every.total_seconds()
            self._prune(tick - self.ttl.total_seconds() - self.overlap.total_seconds())

    def _prune(self, before: float) -> None:
        """Entries noted longer than a token's lifetime ago concern no unexpired token."""
        for username in [u for u, (_, at) in self._floor.items() if at < before]:
            del self._floor[username]


def principal_dependency(
    codec: TokenCodec,
    token_url: str = "/api/v1/auth/token",
    revocations: Revocations | None = None,
) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: `Security(dep, scopes=[...])` requires any one of the scopes; with
    `revocations`, tokens of accounts changed since they were issued are refused too."""
    scheme = OAuth2PasswordBearer(tokenUrl=token_url, scopes=SCOPES, auto_error=False)

    async def current(
        security_scopes: SecurityScopes, token: Annotated[str | None, Depends(scheme)]
    ) -> Principal:
        if not token:
            raise Unauthorized("bearer token required")
        principal = codec.verify(token)
        if revocations is not None:
            await revocations.check(principal)
        wanted = security_scopes.scopes
        if wanted and not any(principal.has(s) for s in wanted):
            raise Forbidden(f"needs one of the scopes: {', '.join(wanted)}")
        return principal

    return current
