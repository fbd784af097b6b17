"""The delivery log and the channels, for IOC operators and admins."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.notify.api.deps import ChannelsDep, DeliveryLogDep, Operator
from services.notify.api.schemas import ChannelOut, NotificationPage
from services.notify.domain.model import Channel, DeliveryFilter, DeliveryStatus, RecipientKind

router = APIRouter(tags=["notifications"])


@router.get("/notifications", response_model=NotificationPage)
async def notifications(
    _: Operator,
    log: DeliveryLogDep,
    report_id: str | None = None,
    channel: Channel | None = None,
    status: DeliveryStatus | None = None,
    recipient_kind: RecipientKind | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> NotificationPage:
    """The delivery log (oldest first), filtered; operators and admins only."""
    filters = DeliveryFilter(report_id, channel, status, recipient_kind)
    return NotificationPage.of(await log.page(filters, limit, offset))


@router.get("/channels", response_model=list[ChannelOut])
async def list_channels(_: Operator, channels: ChannelsDep) -> list[ChannelOut]:
    """Which delivery channels this deployment has switched on, and why not the others."""
    return [ChannelOut.of(state) for state in channels.states()]
