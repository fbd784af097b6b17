"""Emitting one of a report's own events with the sequence the report keeps itself."""

from __future__ import annotations

from pydantic import BaseModel

from services.intake.domain.report import Report
from shared.events import CloudEvent
from shared.uow import UnitOfWork


async def emit_for(
    uow: UnitOfWork, report: Report, topic: str, payload: BaseModel
) -> tuple[Report, CloudEvent]:
    """Emits `topic` for `report` with its next sequence, and returns the report that counts it
    (save that one in the same unit of work). The counter lives in the report document, which
    the unit of work reads and writes anyway: no separate counter round trip, and two units of
    work that emit for the same report conflict on that document and one is run again. A
    report stored before it kept the counter takes the shared counter's next value once."""
    event = await uow.emit(topic, report.id, payload, sequence=report.next_sequence)
    return report.emitted(event.sequence), event
