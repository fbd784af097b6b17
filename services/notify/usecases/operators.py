"""Queries for IOC operators: the delivery log, and which channels are switched on."""

from __future__ import annotations

from dataclasses import dataclass

from services.notify.domain.model import Channel, Delivery, DeliveryFilter
from services.notify.usecases.ports import Deliveries


@dataclass(frozen=True)
class DeliveryPage:
    items: list[Delivery]
    next_offset: int | None  # where the next page starts; None when this is the last


@dataclass(frozen=True)
class ChannelState:
    channel: Channel
    enabled: bool
    detail: str | None  # why it is off


class DeliveryLog:
    def __init__(self, deliveries: Deliveries) -> None:
        self.deliveries = deliveries

    async def page(self, filters: DeliveryFilter, limit: int, offset: int) -> DeliveryPage:
        """Up to `limit` deliveries from `offset`, oldest first."""
        found = await self.deliveries.page(filters, limit + 1, offset)
        more = len(found) > limit
        return DeliveryPage(found[:limit], offset + limit if more else None)


class Channels:
    def __init__(self, disabled: dict[Channel, str]) -> None:
        self.disabled = disabled

    def states(self) -> list[ChannelState]:
        """Every channel, the log first: on, or off and why."""
        order = (Channel.LOG, Channel.EMAIL, Channel.WEBHOOK, Channel.SMS)
        return [ChannelState(ch, ch not in self.disabled, self.disabled.get(ch)) for ch in order]
