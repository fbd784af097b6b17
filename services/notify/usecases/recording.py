"""Recording the deliveries of many news at once: one read of the preferences for all their
addresses, one read of the delivery ids already stored, one insert of the new ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from services.notify.domain.delivery import UnsubscribeTokens
from services.notify.domain.model import (
    Audience,
    Channel,
    Delivery,
    DeliveryStatus,
    Lease,
    News,
)
from services.notify.domain.planning import Recipients, deliveries, recorded_outcome
from services.notify.domain.rules import can_unsubscribe
from services.notify.usecases.ports import Deliveries, Preferences
from shared.crypto import PiiBox
from shared.uow import Session

Outcomes = list[tuple[str, str]]  # (channel, outcome) of each delivery recorded


@dataclass(frozen=True)
class Planned:
    """One news to record for one audience, on these channels, because of event `event_id`."""

    event_id: str
    news: News
    audience: Audience
    channels: list[Channel]


@dataclass
class Recorded:
    """What a batch recorded: the outcomes by the event that caused them, and the new pending
    deliveries (for the worker)."""

    outcomes: dict[str, Outcomes] = field(default_factory=dict)
    pending: list[Delivery] = field(default_factory=list)

    def merge(self, other: Recorded) -> None:
        for event_id, got in other.outcomes.items():
            self.outcomes.setdefault(event_id, []).extend(got)
        self.pending += other.pending


class Recorder:
    def __init__(
        self,
        deliveries: Deliveries,
        preferences: Preferences,
        box: PiiBox,
        tokens: UnsubscribeTokens,
        disabled: dict[Channel, str],
        clock: Callable[[], datetime],
    ) -> None:
        self.deliveries = deliveries
        self.preferences = preferences
        self.box = box
        self.tokens = tokens
        self.disabled = disabled
        self.clock = clock

    async def record(
        self,
        planned: list[Planned],
        session: Session,
        lease: Lease | None = None,
        assume_new: bool = False,
    ) -> Recorded:
        """Records one delivery per planned news and channel unless it exists (the pending ones
        held by `lease`, if any; `assume_new`: without checking, in an optimistic unit of work);
        returns what it recorded."""
        recorded = Recorded({p.event_id: [] for p in planned})
        if not planned:
            return recorded
        # Addresses that can unsubscribe (their messages carry the link); the key is an HMAC.
        keys = [
            {
                ch: self.tokens.address_key(ch, addr)
                for ch, addr in p.audience.addresses.items()
                if can_unsubscribe(p.audience.kind, ch)
            }
            for p in planned
        ]
        wanted = sorted({k for by_channel in keys for k in by_channel.values()})
        blocked = await self.preferences.any_unsubscribed(wanted, session) if wanted else set()
        now = self.clock()
        made: list[tuple[str, Delivery]] = []
        for p, by_channel in zip(planned, keys, strict=True):
            recipients = Recipients(by_channel, blocked, self.disabled)
            made += [
                (p.event_id, d)
                for d in deliveries(p.news, p.audience, p.channels, recipients, now, self._seal)
            ]
        new = await self.deliveries.record_many([d for _, d in made], session, lease, assume_new)
        for event_id, d in made:
            if d.id in new:
                new.discard(d.id)  # planned twice in one batch: recorded (and counted) once
                recorded.outcomes[event_id].append((d.channel.value, recorded_outcome(d)))
                if d.status is DeliveryStatus.PENDING:
                    recorded.pending.append(d)
        return recorded

    def _seal(self, address: str, aad: str) -> str:
        return self.box.seal(address, aad=aad)
