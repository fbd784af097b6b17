"""Projecting a batch of events: each report's stored events plus the new ones give its new
fact, and the rollups move from the stored fact's contribution to the new one's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo

from services.analytics.domain.facts import Fact, Recorded, build_fact, kept
from services.analytics.domain.rollups import Delta
from shared.events import CloudEvent
from shared.mongo import to_millis


@dataclass(frozen=True)
class History:
    """What is stored for one report: its fact (None before the first) and its events."""

    fact: Fact | None = None
    events: tuple[Recorded, ...] = ()


@dataclass(frozen=True)
class Projected:
    """A report's new fact and every event it was computed from (to store together);
    `first`: nothing was stored for the report before."""

    fact: Fact
    events: tuple[Recorded, ...]
    first: bool = False


def recorded(topic: str, event: CloudEvent) -> Recorded:
    """An event as analytics keeps it (without the fields it never needs), its time to the
    millisecond as the database keeps it: a fact computed from a new event then equals the one
    computed later from the stored copy."""
    return Recorded(
        event.id, topic, event.source, event.sequence, to_millis(event.time), kept(event.data)
    )


def project(
    stored: Mapping[str, History],
    arriving: Iterable[tuple[str, Recorded]],
    tz: tzinfo,
    delta: Delta,
) -> list[Projected]:
    """The reports whose set of events grows, with their new facts; `delta` gets the change
    to the rollups. An event already stored (or twice in the batch) changes nothing."""
    new: dict[str, dict[str, Recorded]] = {}
    for report_id, event in arriving:
        new.setdefault(report_id, {})[event.id] = event
    out: list[Projected] = []
    for report_id, events in new.items():
        history = stored.get(report_id)
        first = history is None
        history = history or History()
        known = {e.id for e in history.events}
        fresh = [e for e in events.values() if e.id not in known]
        if not fresh:
            continue
        all_events = history.events + tuple(fresh)
        fact = build_fact(report_id, all_events, tz)
        delta.move(history.fact, fact)
        out.append(Projected(fact, all_events, first))
    return out
