"""Dependencies of intake's routes: the wired use cases (from `app.state.intake`, set by
`app.py`), the reader's language, the idempotency scope and the create rate limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from services.intake.domain.errors import InvalidInput
from services.intake.domain.idempotency import client_identity
from services.intake.usecases import Intake
from services.intake.usecases.create import FileReport
from services.intake.usecases.open311 import Open311
from services.intake.usecases.queries import Queries
from services.intake.usecases.resident import ResidentActions
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


def rate_limit_create(request: Request) -> None:
    """Per client IP, in this replica's memory; refuses with `RateLimited` (429, Retry-After)."""
    intake(request).quota.take(client_ip(request))


FileReportDep = Annotated[FileReport, Depends(file_report)]
ResidentDep = Annotated[ResidentActions, Depends(resident)]
QueriesDep = Annotated[Queries, Depends(queries)]
Open311Dep = Annotated[Open311, Depends(open311)]
LangDep = Annotated[Lang, Depends(language)]
IdempotencyDep = Annotated[IdempotencyScope, Depends(idempotency_scope)]
CreateRateLimit = Annotated[None, Depends(rate_limit_create)]
TokenHeader = Annotated[
    str | None, Header(alias="X-Tracking-Token", description="The report's tracking token")
]
