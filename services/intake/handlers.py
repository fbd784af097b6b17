"""Subscribers: decode the events of a polled batch, call the use cases in the consumer's unit
of work. One batch handler takes every topic intake consumes, so the batch's lifecycle events
are read and written in bulk."""

from __future__ import annotations

import logging

from services.intake.domain.projection import CONSUMED, Fact, fact_from_event
from services.intake.usecases.events import ConsumedEvents
from shared.account_versions import AccountVersions
from shared.batch import Incoming, event_ids, event_scope
from shared.catalog import CatalogV1
from shared.events import AccountChangedV1, Topic
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

# What each consumed topic does (the AsyncAPI document shows it).
TOPICS: dict[str, str] = {
    **{
        str(topic): "Routing's lifecycle events update the public view and timeline "
        "(sequence-guarded)"
        for topic in CONSUMED
    },
    str(Topic.JURISDICTION_CATALOG): "Keeps intake's copy of the category catalogue "
    "(newest version wins)",
    str(Topic.ACCOUNT_CHANGED): "Keeps the newest token version of each staff login: older "
    "tokens are refused",
}


class Handlers:
    def __init__(self, events: ConsumedEvents, accounts: AccountVersions | None = None) -> None:
        self.events = events
        self.accounts = accounts  # None only in tests of report events: account changes dropped

    async def on_batch(self, batch: list[Incoming], uow: UnitOfWork) -> None:
        """The batch's catalogue events and account changes, then its lifecycle events (in
        broker order) in bulk."""
        facts: list[tuple[Fact, Incoming]] = []
        changed: list[AccountChangedV1] = []
        for one in batch:
            with event_scope(one.topic, one.event, one.headers):
                if one.topic == Topic.ACCOUNT_CHANGED:
                    changed.append(one.event.payload(AccountChangedV1))
                elif one.topic == Topic.JURISDICTION_CATALOG:
                    await self.events.catalog_published(one.event.payload(CatalogV1), uow)
                else:
                    facts.append((fact_from_event(one.event), one))
        if changed and self.accounts is not None:
            await self.accounts.record(changed, uow)
        if not facts:
            return
        unknown = await self.events.lifecycle([fact for fact, _ in facts], uow)
        incoming = {id(fact): one for fact, one in facts}
        for fact in unknown:
            with event_ids(incoming[id(fact)].event):
                log.warning("lifecycle event for an unknown report ignored")
