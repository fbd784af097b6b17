"""The OAuth2 password flow: a login becomes a JWT (other services verify it)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from services.routing.api.deps import AccountsDep, Tokens
from services.routing.api.schemas import TokenOut

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={429: {"description": "Too many failed logins (Retry-After says how long)"}},
)
async def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    accounts: AccountsDep,
    tokens: Tokens,
) -> TokenOut:
    """OAuth2 password flow: staff (username = agency id in development), operator, admin.
    Throttled per username and per client address (behind a proxy: TRUSTED_PROXIES)."""
    client = request.client.host if request.client else "unknown"
    principal = await accounts.authenticate(form.username, form.password, client)
    return TokenOut(
        access_token=tokens.issue(principal),
        expires_in=int(tokens.config.ttl.total_seconds()),
        scope=" ".join(principal.scopes),
    )
