"""Admin routes (scope `admin`): the jurisdiction document, closure days and the logins."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from services.routing.api.deps import AccountsDep, Admin, AdminDep, ClosuresDep
from services.routing.api.schemas import AccountIn, AccountOut, ClosureIn, ClosureOut, Items
from services.routing.domain.closures import Closure
from services.routing.usecases.workflow import actor_of

router = APIRouter(prefix="/admin", tags=["admin"])
USERNAME = r"^[a-z0-9][a-z0-9._-]{1,63}$"


@router.get("/jurisdiction")
async def get_jurisdiction(p: Admin, admin: AdminDep) -> dict[str, Any]:
    """The whole current jurisdiction document (the format of the seed file)."""
    return (await admin.current()).model_dump(mode="json")


@router.put("/jurisdiction")
async def put_jurisdiction(p: Admin, admin: AdminDep, document: dict[str, Any]) -> dict[str, Any]:
    """Validate the whole document and apply it at once (no restart); the version is bumped
    and the catalogue republished. 422 lists every problem."""
    return (await admin.replace(document, actor_of(p))).model_dump(mode="json")


@router.get("/closures", response_model=Items[ClosureOut])
async def list_closures(p: Admin, closures: ClosuresDep) -> Items[ClosureOut]:
    """Every closure day in force, by date."""
    return Items(items=[ClosureOut.of(c) for c in await closures.list()])


@router.put("/closures/{day}", response_model=ClosureOut)
async def put_closure(p: Admin, closures: ClosuresDep, day: date, body: ClosureIn) -> ClosureOut:
    """Close `day` (YYYY-MM-DD) for the agencies listed (none: every agency); replaces the
    day's closure. Open assignments whose due time it moves get it re-timed and announced."""
    closure = Closure(day, body.reason, tuple(dict.fromkeys(body.agency_ids)))
    return ClosureOut.of(await closures.put(closure, actor_of(p)))


@router.delete("/closures/{day}", status_code=204)
async def delete_closure(p: Admin, closures: ClosuresDep, day: date) -> Response:
    """Open `day` again (404 if it was not closed); due times move back."""
    await closures.remove(day, actor_of(p))
    return Response(status_code=204)


@router.get("/accounts", response_model=Items[AccountOut])
async def list_accounts(p: Admin, accounts: AccountsDep) -> Items[AccountOut]:
    """Every login (never its password hash); demo ones are refused in production."""
    return Items(items=[AccountOut.of(a) for a in await accounts.all()])


@router.put("/accounts/{username}", status_code=204)
async def put_account(
    p: Admin,
    accounts: AccountsDep,
    username: Annotated[str, Path(pattern=USERNAME)],
    body: AccountIn,
) -> Response:
    """Create a login or replace its password, scopes and agency; the tokens issued before are
    refused from then on (on every replica within TOKEN_REVOCATION_REFRESH_S)."""
    await accounts.put(username, body.password, body.scopes, body.agency_id)
    return Response(status_code=204)


@router.delete("/accounts/{username}", status_code=204)
async def delete_account(p: Admin, accounts: AccountsDep, username: str) -> Response:
    """Remove a login; its tokens are refused from then on (on every replica within
    TOKEN_REVOCATION_REFRESH_S)."""
    await accounts.delete(username)
    return Response(status_code=204)
