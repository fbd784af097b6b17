"""Closure days set by an administrator (a typhoon day off): extra days on which some or every
agency does not work, on top of the weekly office hours and the public holidays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Closure:
    day: date
    reason: str
    agencies: tuple[str, ...] = ()  # empty: every agency

    def applies_to(self, agency_id: str) -> bool:
        return not self.agencies or agency_id in self.agencies


@dataclass(frozen=True)
class Closures:
    """Every closure day in force, one per date, with the version of the set (bumped by each
    admin change: replicas compare it with the one they hold)."""

    version: int = 0
    items: tuple[Closure, ...] = field(default_factory=tuple)

    def days_for(self, agency_id: str) -> frozenset[date]:
        return frozenset(c.day for c in self.items if c.applies_to(agency_id))

    def get(self, day: date) -> Closure | None:
        return next((c for c in self.items if c.day == day), None)

    def with_closure(self, closure: Closure) -> Closures:
        kept = [c for c in self.items if c.day != closure.day]
        return Closures(self.version + 1, _ordered([*kept, closure]))

    def without(self, day: date) -> Closures:
        return Closures(self.version + 1, _ordered(c for c in self.items if c.day != day))


def _ordered(items: Iterable[Closure]) -> tuple[Closure, ...]:
    return tuple(sorted(items, key=lambda c: c.day))
