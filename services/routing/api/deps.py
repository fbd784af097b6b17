"""How routes get what they need: `Annotated` aliases over the use cases that `app.py` wired
into `request.app.state.routing` (a `RoutingApi`)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import OAuth2PasswordBearer, SecurityScopes

from services.routing.api.schemas import Presenter
from services.routing.usecases.accounts import Accounts
from services.routing.usecases.admin import JurisdictionAdmin
from services.routing.usecases.closures import ClosureAdmin
from services.routing.usecases.deadlines import Deadlines
from services.routing.usecases.operator import OperatorCommands, OperatorQueries
from services.routing.usecases.photos import ResolutionPhotos
from services.routing.usecases.staff import StaffCommands, StaffQueries
from shared.auth import SCOPES, Principal, Revocations, TokenCodec

Verify = Callable[[SecurityScopes, str | None], Awaitable[Principal]]


@dataclass(frozen=True)
class UploadLimits:
    max_count: int
    max_bytes: int


@dataclass(frozen=True)
class RoutingApi:
    """Everything the routes use, wired once by `app.py`."""

    staff_queries: StaffQueries
    staff: StaffCommands
    operator_queries: OperatorQueries
    operator: OperatorCommands
    admin: JurisdictionAdmin
    closures: ClosureAdmin
    accounts: Accounts
    deadlines: Deadlines
    photos: ResolutionPhotos
    present: Presenter
    tokens: TokenCodec
    verify: Verify  # `shared.auth.principal_dependency(tokens, revocations=revocations)`
    revocations: Revocations  # what every token is checked against
    upload_limits: UploadLimits


def _api(request: Request) -> RoutingApi:
    api: RoutingApi = request.app.state.routing
    return api


_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", scopes=SCOPES, auto_error=False)


async def _principal(
    request: Request, scopes: SecurityScopes, token: Annotated[str | None, Depends(_scheme)]
) -> Principal:
    return await _api(request).verify(scopes, token)


Staff = Annotated[Principal, Security(_principal, scopes=["staff", "operator"])]
Operator = Annotated[Principal, Security(_principal, scopes=["operator"])]
Admin = Annotated[Principal, Security(_principal, scopes=["admin"])]


def _staff_queries(request: Request) -> StaffQueries:
    return _api(request).staff_queries


def _staff(request: Request) -> StaffCommands:
    return _api(request).staff


def _operator_queries(request: Request) -> OperatorQueries:
    return _api(request).operator_queries


def _operator(request: Request) -> OperatorCommands:
    return _api(request).operator


def _admin(request: Request) -> JurisdictionAdmin:
    return _api(request).admin


def _closures(request: Request) -> ClosureAdmin:
    return _api(request).closures


def _accounts(request: Request) -> Accounts:
    return _api(request).accounts


def _photos(request: Request) -> ResolutionPhotos:
    return _api(request).photos


def _present(request: Request) -> Presenter:
    return _api(request).present


def _tokens(request: Request) -> TokenCodec:
    return _api(request).tokens


def _limits(request: Request) -> UploadLimits:
    return _api(request).upload_limits


StaffQueriesDep = Annotated[StaffQueries, Depends(_staff_queries)]
StaffDep = Annotated[StaffCommands, Depends(_staff)]
OperatorQueriesDep = Annotated[OperatorQueries, Depends(_operator_queries)]
OperatorDep = Annotated[OperatorCommands, Depends(_operator)]
AdminDep = Annotated[JurisdictionAdmin, Depends(_admin)]
ClosuresDep = Annotated[ClosureAdmin, Depends(_closures)]
AccountsDep = Annotated[Accounts, Depends(_accounts)]
PhotosDep = Annotated[ResolutionPhotos, Depends(_photos)]
Present = Annotated[Presenter, Depends(_present)]
Tokens = Annotated[TokenCodec, Depends(_tokens)]
Limits = Annotated[UploadLimits, Depends(_limits)]
