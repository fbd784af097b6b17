"""Public routes: the agencies, the active categories and the resolution photos."""

from fastapi import APIRouter, Response

from services.routing.api.deps import AdminDep, PhotosDep
from services.routing.api.schemas import AgencyOut, Items
from shared.catalog import CategoryV1

router = APIRouter(tags=["catalogue"])


@router.get("/agencies", response_model=Items[AgencyOut])
async def agencies(admin: AdminDep) -> Items[AgencyOut]:
    return Items(
        items=[AgencyOut(id=a.id, name=a.name, kind=a.kind) for a in await admin.agencies()]
    )


@router.get("/categories", response_model=Items[CategoryV1])
async def categories(admin: AdminDep) -> Items[CategoryV1]:
    return Items(items=await admin.active_categories())


@router.get("/photos/{photo_id}")
async def photo(photo_id: str, photos: PhotosDep) -> Response:
    """A resolution photo (public, like the result it documents)."""
    data, content_type = await photos.get(photo_id)
    headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=content_type, headers=headers)
