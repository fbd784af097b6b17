"""How routes reach the wired use cases: `app.state.notify`, through `Annotated` dependencies."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request, Security
from fastapi.security import OAuth2PasswordBearer, SecurityScopes

from services.notify.usecases.operators import Channels, DeliveryLog
from services.notify.usecases.residents import Unsubscribe
from services.notify.usecases.stream import StatusStream
from shared.auth import SCOPES, Principal

# (security scopes, bearer token) -> the caller, or a refusal (shared/auth.py)
Authenticate = Callable[[SecurityScopes, str | None], Awaitable[Principal]]


@dataclass(frozen=True)
class NotifyApi:
    """What app.py wires for the routes (`app.state.notify`)."""

    authenticate: Authenticate
    delivery_log: DeliveryLog
    channels: Channels
    unsubscribe: Unsubscribe
    stream: StatusStream


def _wired(request: Request) -> NotifyApi:
    return cast(NotifyApi, request.app.state.notify)


_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", scopes=SCOPES, auto_error=False)


async def _principal(
    request: Request, scopes: SecurityScopes, token: Annotated[str | None, Depends(_bearer)]
) -> Principal:
    return await _wired(request).authenticate(scopes, token)


def _delivery_log(request: Request) -> DeliveryLog:
    return _wired(request).delivery_log


def _channels(request: Request) -> Channels:
    return _wired(request).channels


def _unsubscribe(request: Request) -> Unsubscribe:
    return _wired(request).unsubscribe


def _stream(request: Request) -> StatusStream:
    return _wired(request).stream


Operator = Annotated[Principal, Security(_principal, scopes=["operator", "admin"])]
DeliveryLogDep = Annotated[DeliveryLog, Depends(_delivery_log)]
ChannelsDep = Annotated[Channels, Depends(_channels)]
UnsubscribeDep = Annotated[Unsubscribe, Depends(_unsubscribe)]
StatusStreamDep = Annotated[StatusStream, Depends(_stream)]
