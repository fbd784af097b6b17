"""Dependencies of intake's routes: the wired use cases (from `app.state.intake`, set by
`app.py`), the reader's language, the idempotency scope and the per-client rate limits.

Rate limits: `Depends(rate_limit(name))` with a name of `usecases/quotas.py` (create, read, act,
resident_token, suggest), e.g. `dependencies=[Depends(rate_limit(SUGGEST))]` on a route. The
client is the address uvicorn gives (`TRUSTED_PROXIES` decides whether X-Forwarded-For counts),
never a header the caller picks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Header, Request

from services.intake.domain.errors import InvalidInput
from services.intake.domain.idempotency import client_identity
from services.intake.usecases import Intake
from services.intake.usecases.create import FileReport
from services.intake.usecases.open311 import Open311
from services.intake.usecases.queries import Queries
from services.intake.usecases.quotas import ACT, CREATE, READ, RESIDENT_TOKEN
from services.intake.usecases.resident import ResidentActions, ResidentTokens
from shared.i18n import Lang, pick_language

IDEMPOTENCY_KEY_MAX = 200
CLIENT_ID_MAX = 200


def intake(request: Request) -> Intake:
    wired: Intake = request.app.state.intake
    return wired


def file_report(request: Request) -> FileReport:
    return intake(request).file_report


def resident(request: Request) -> ResidentActions:
    return intake(request).resident


def queries(request: Request) -> Queries:
    return intake(request).queries


def open311(request: Request) -> Open311:
    return intake(request).open311


def language(accept_language: Annotated[str | None, Header()] = None) -> Lang:
    return pick_language(accept_language)


def city_zone(request: Request) -> ZoneInfo:
    """The city's time zone (`CITY_TIME_ZONE`): the public view's due time is shown on it."""
    return intake(request).city_zone


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class IdempotencyScope:
    key: str | None
    client: str


def idempotency_scope(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retry key, scoped to the client (X-Client-Id, else the client IP)",
        ),
    ] = None,
    client_id: Annotated[
        str | None,
        Header(alias="X-Client-Id", description="Stable, random id of the app install"),
    ] = None,
) -> IdempotencyScope:
    """The checked `Idempotency-Key` header and the client it belongs to (`X-Client-Id`, else
    the client IP)."""
    if key is not None and not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
        raise InvalidInput(
            f"Idempotency-Key must be 1-{IDEMPOTENCY_KEY_MAX} characters", field="Idempotency-Key"
        )
    if client_id is not None and len(client_id) > CLIENT_ID_MAX:
        raise InvalidInput(f"X-Client-Id is over {CLIENT_ID_MAX} characters", field="X-Client-Id")
    return IdempotencyScope(key, client_identity(client_id, client_ip(request)))


def rate_limit(name: str) -> Callable[[Request], None]:
    """A dependency taking one request from the client's `name` limit (in this replica's
    memory); refuses with `RateLimited` (429, Retry-After)."""

    def take(request: Request) -> None:
        intake(request).quotas.take(name, client_ip(request))

    take.__name__ = f"rate_limit_{name}"
    return take


def resident_tokens(request: Request) -> ResidentTokens:
    return intake(request).residents


def resident_id(
    request: Request,
    token: Annotated[
        str | None,
        Header(alias="X-Resident-Token", description="From POST /api/v1/residents", max_length=200),
    ] = None,
) -> str:
    """The anonymous resident a valid `X-Resident-Token` belongs to (401 otherwise)."""
    return resident_tokens(request).resident(token)


FileReportDep = Annotated[FileReport, Depends(file_report)]
ResidentDep = Annotated[ResidentActions, Depends(resident)]
QueriesDep = Annotated[Queries, Depends(queries)]
Open311Dep = Annotated[Open311, Depends(open311)]
LangDep = Annotated[Lang, Depends(language)]
ZoneDep = Annotated[ZoneInfo, Depends(city_zone)]
IdempotencyDep = Annotated[IdempotencyScope, Depends(idempotency_scope)]
ResidentTokensDep = Annotated[ResidentTokens, Depends(resident_tokens)]
ResidentIdDep = Annotated[str, Depends(resident_id)]
CreateRateLimit = Annotated[None, Depends(rate_limit(CREATE))]
CREATE_LIMIT = Depends(rate_limit(CREATE))
READ_LIMIT = Depends(rate_limit(READ))
ACT_LIMIT = Depends(rate_limit(ACT))
RESIDENT_TOKEN_LIMIT = Depends(rate_limit(RESIDENT_TOKEN))
TokenHeader = Annotated[
    str | None, Header(alias="X-Tracking-Token", description="The report's tracking token")
]
