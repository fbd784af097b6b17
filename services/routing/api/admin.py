"""Admin routes (scope `admin`): the jurisdiction document and the logins."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from services.routing.api.deps import AccountsDep, Admin, AdminDep
from services.routing.api.schemas import AccountIn, AccountOut, Items
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
    """Create a login or replace its password, scopes and agency."""
    await accounts.put(username, body.password, body.scopes, body.agency_id)
    return Response(status_code=204)


@router.delete("/accounts/{username}", status_code=204)
async def delete_account(p: Admin, accounts: AccountsDep, username: str) -> Response:
    """Remove a login; tokens already issued stay valid until they expire (JWT_TTL_S)."""
    await accounts.delete(username)
    return Response(status_code=204)
