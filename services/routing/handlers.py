"""Thin event handlers: decode and hand over to the service, in the consumer's transaction."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from services.routing.service import RoutingService
from shared.consumer import SessionHandler
from shared.events import CloudEvent


def created_handler(service: RoutingService) -> SessionHandler:
    async def on_report_created(event: CloudEvent, session: AsyncClientSession) -> None:
        """Routes a new report to an agency (idempotent by report id)."""
        await service.on_report_created(event, session)

    return on_report_created


def reopened_handler(service: RoutingService) -> SessionHandler:
    async def on_report_reopened(event: CloudEvent, session: AsyncClientSession) -> None:
        """Routes a reopened report again."""
        await service.on_report_reopened(event, session)

    return on_report_reopened
