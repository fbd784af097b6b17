"""Subscribers: decode a polled batch's events, hand them to the use case with the consumer's
unit of work (one for the whole batch)."""

from __future__ import annotations

from functools import partial

from services.notify.domain.model import Incoming
from services.notify.usecases.events import Arrival, CatalogArrival, RecordEvents
from shared.account_versions import AccountVersions
from shared.batch import Incoming as Polled
from shared.batch import event_scope
from shared.catalog import CatalogV1
from shared.events import (
    PAYLOADS,
    REPORT_TOPICS,
    AccountChangedV1,
    CloudEvent,
    ReportCreatedV1,
    Topic,
)
from shared.uow import UnitOfWork

# Fields of a payload that notify never keeps (resident text, places, photos, sealed contact).
_NOT_KEPT = {"contact_sealed", "description", "location", "address", "photo_urls", "attributes"}


def incoming(topic: str, event: CloudEvent) -> Incoming:
    """A report event as notify keeps it: no personal data, nothing it does not use."""
    data = event.payload(PAYLOADS[topic]).model_dump(
        mode="json", exclude=_NOT_KEPT, exclude_none=True
    )
    return Incoming(
        event_id=event.id,
        type=topic,
        report_id=event.subject,
        source=event.source.replace(".", "_"),
        sequence=event.sequence,
        time=event.time,
        agency_id=data.get("agency_id"),
        assignment_id=data.get("assignment_id"),
        attempt=data.get("attempt"),
        details=data,
    )


def sealed_contact(topic: str, event: CloudEvent) -> str | None:
    """`report.created`'s reporter contact, still sealed."""
    if topic != Topic.REPORT_CREATED:
        return None
    return event.payload(ReportCreatedV1).contact_sealed


def arrival(one: Polled) -> Arrival | CatalogArrival:
    """One polled event, decoded (in its log and trace scope)."""
    scope = partial(event_scope, one.topic, one.event, one.headers)
    with scope():
        if one.topic == Topic.JURISDICTION_CATALOG:
            return CatalogArrival(one.event.payload(CatalogV1), one.event.id, scope)
        ev, sealed = incoming(one.topic, one.event), sealed_contact(one.topic, one.event)
        return Arrival(ev, sealed, scope)


class EventHandlers:
    def __init__(self, events: RecordEvents, accounts: AccountVersions | None = None) -> None:
        self.events = events
        self.accounts = accounts  # None only in tests of report events: account changes dropped

    def topics(self) -> dict[str, str]:
        """Every topic notify consumes (each `report.*` and the catalogue), and what it does
        with it."""
        docs = {
            str(topic): f"Records who hears about `{topic}` and the report's status change."
            for topic in REPORT_TOPICS
        }
        # Told by the `report.assigned` (reason `reroute`) that follows in the same commit.
        docs[str(Topic.REPORT_RECATEGORIZED)] = (
            "Keeps the corrected category (later messages name it); tells nobody itself: the "
            "`report.assigned` that follows tells the resident and the new agency."
        )
        catalog = "Keeps the newest catalogue: agencies' public contacts and category names."
        accounts = "Keeps the newest token version of each staff login: older tokens are refused."
        return docs | {
            str(Topic.JURISDICTION_CATALOG): catalog,
            str(Topic.ACCOUNT_CHANGED): accounts,
        }

    async def on_batch(self, batch: list[Polled], uow: UnitOfWork) -> None:
        """Applies the new events of a polled batch, in the broker's order, at once; account
        changes only feed the token revocations."""
        changed = [one for one in batch if one.topic == Topic.ACCOUNT_CHANGED]
        if changed and self.accounts is not None:
            await self.accounts.record(
                [one.event.payload(AccountChangedV1) for one in changed], uow
            )
        rest = [arrival(one) for one in batch if one.topic != Topic.ACCOUNT_CHANGED]
        if rest:
            await self.events.apply(rest, uow)
