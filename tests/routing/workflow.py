"""Helpers of the HTTP workflow tests: act as a login, read back state, files and events."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from PIL import Image, PngImagePlugin

from services.routing.stores import now_ms
from shared.events import GeoPoint
from tests.routing.conftest import PHU_HOI, Routing


def png() -> bytes:
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("GPS", "16.46,107.59")
    Image.new("RGB", (8, 6), "red").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


PNG = png()


async def post(routing: Routing, who: str, path: str, **kw: Any) -> Any:
    return await routing.client.post(path, headers=await routing.auth(who), **kw)


async def new(
    routing: Routing, category: str = "sidewalk-encroachment", point: GeoPoint = PHU_HOI
) -> dict[str, Any]:
    event = await routing.publish_created(category, point)
    return await routing.assignment(event.subject)


async def detail(routing: Routing, assignment_id: str) -> dict[str, Any]:
    """The assignment as an operator sees it (every agency)."""
    r = await routing.client.get(
        f"/api/v1/assignments/{assignment_id}", headers=await routing.auth("operator")
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def announced(routing: Routing, report_id: str) -> list[str]:
    """The types of the events routing wrote to its outbox for the report, in order."""
    return [
        e["type"]
        for e in await routing.db["outbox"].find({"subject": report_id}).sort("ts", 1).to_list()
    ]


async def files(routing: Routing, assignment_id: str) -> list[dict[str, Any]]:
    return await routing.db["photos.files"].find({"metadata.owner": assignment_id}).to_list()


async def refused_changes_nothing(
    routing: Routing, a: dict[str, Any], who: str, path: str, **kw: Any
) -> Any:
    """Posts a command that must be refused; checks that state and events stayed as they were."""
    before = (await detail(routing, a["id"]), await announced(routing, a["report_id"]))
    r = await post(routing, who, f"/api/v1/assignments/{a['id']}/{path}", **kw)
    after = (await detail(routing, a["id"]), await announced(routing, a["report_id"]))
    assert after == before
    assert await files(routing, a["id"]) == []
    return r


async def make_overdue(routing: Routing, assignment_id: str) -> None:
    await routing.db["assignments"].update_one(
        {"_id": assignment_id}, {"$set": {"due_at": now_ms() - timedelta(hours=1)}}
    )
