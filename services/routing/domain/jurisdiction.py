"""The jurisdiction: agencies, categories, areas and the rules that route a report to an agency.

Plain data and rules: no I/O. Which areas contain a point is answered by `areas.py` (in memory);
this module decides, from those areas, which agency gets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from services.routing.domain.closures import Closures
from services.routing.domain.errors import InvalidJurisdiction
from services.routing.domain.geometry import geometry_errors
from services.routing.domain.worktime import (
    DEFAULT_OFFICE_HOURS,
    DEFAULT_TIME_ZONE,
    Unit,
    Weekday,
    WorkCalendar,
    office_hours_errors,
    time_zone_error,
)
from shared.catalog import AgencyRefV1, CategoryV1

Level = Literal["province", "district", "ward"]

# Most specific first: a ward rule beats a district rule beats a province rule.
LEVEL_RANK: dict[str, int] = {"ward": 0, "district": 1, "province": 2}


class Agency(AgencyRefV1):
    """An agency that handles reports (a department, a utility, a district or ward committee).
    Its office hours and time zone default to the jurisdiction's (they are not published in
    the catalogue: only routing counts working time)."""

    office_hours: dict[Weekday, list[str]] | None = Field(
        default=None, description='Local opening periods per weekday: {"mon": ["07:30-11:30"]}'
    )
    time_zone: str | None = Field(default=None, description="IANA name, e.g. Asia/Ho_Chi_Minh")


class Area(BaseModel):
    id: str
    level: Level
    parent: str | None = None
    name: dict[str, str]
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, WGS84")


class Rule(BaseModel):
    id: str
    category: str
    area: str | None = Field(default=None, description="Area id; null means anywhere")
    agency: str


class Jurisdiction(BaseModel):
    """The whole versioned document, as stored in the repo file and served by the admin API."""

    version: int = Field(ge=1)
    demo: bool = False
    notice: str | None = None
    fallback_agency: str = "ioc"
    time_zone: str = Field(default=DEFAULT_TIME_ZONE, description="Agencies' default zone")
    office_hours: dict[Weekday, list[str]] = Field(
        default_factory=lambda: dict(DEFAULT_OFFICE_HOURS),
        description="Agencies' default office hours",
    )
    agencies: list[Agency]
    categories: list[CategoryV1]
    areas: list[Area] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)

    def agency(self, agency_id: str) -> Agency | None:
        return next((a for a in self.agencies if a.id == agency_id), None)

    def category(self, code: str) -> CategoryV1 | None:
        return next((c for c in self.categories if c.code == code), None)

    def deadline(self, category: str, default_hours: int) -> tuple[int, Unit]:
        """How long an agency has for a report of `category`: its `deadline` (calendar or
        working time), else its `deadline_hours` (calendar), else `default_hours` (unknown)."""
        cat = self.category(category)
        if cat is None:
            return default_hours, "hours"
        if cat.deadline is not None:
            return cat.deadline.amount, cat.deadline.unit
        return cat.deadline_hours, "hours"

    def calendar(self, agency_id: str, closures: Closures = Closures()) -> WorkCalendar:
        """The agency's working-time clock (the jurisdiction's defaults where it has none)."""
        agency = self.agency(agency_id)
        week = (agency.office_hours if agency else None) or self.office_hours
        zone = (agency.time_zone if agency else None) or self.time_zone
        return WorkCalendar.of(week, zone, closures.days_for(agency_id))

    def due_at(
        self,
        category: str,
        agency_id: str,
        at: datetime,
        default_hours: int,
        closures: Closures = Closures(),
    ) -> datetime:
        """When a report of `category` assigned to `agency_id` at `at` falls due."""
        amount, unit = self.deadline(category, default_hours)
        if unit == "hours":
            return at + timedelta(hours=amount)
        return self.calendar(agency_id, closures).due(at, amount, unit)

    def agency_name(self, agency_id: str) -> str:
        """The agency's Vietnamese name (else English, else its id)."""
        agency = self.agency(agency_id)
        name = (agency.name.get("vi") or agency.name.get("en")) if agency else None
        return name or agency_id


def parse(document: dict[str, Any]) -> Jurisdiction:
    """Parses and validates a whole document; raises `InvalidJurisdiction` with every problem."""
    try:
        jurisdiction = Jurisdiction.model_validate(document)
    except ValidationError as exc:
        raise InvalidJurisdiction(
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        ) from exc
    errors = validate(jurisdiction)
    if errors:
        raise InvalidJurisdiction(errors)
    return jurisdiction


def _duplicates(ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for i in ids:
        if i in seen and i not in dup:
            dup.append(i)
        seen.add(i)
    return dup


def validate(j: Jurisdiction) -> list[str]:
    """Every consistency problem of the document (empty list when it is valid)."""
    errors: list[str] = []
    for kind, ids in (
        ("agency", [a.id for a in j.agencies]),
        ("category", [c.code for c in j.categories]),
        ("area", [a.id for a in j.areas]),
        ("rule", [r.id for r in j.rules]),
    ):
        errors += [f"duplicate {kind} id: {i}" for i in _duplicates(ids)]
    agencies = {a.id for a in j.agencies}
    categories = {c.code for c in j.categories}
    areas = {a.id for a in j.areas}
    if j.fallback_agency not in agencies:
        errors.append(f"fallback_agency {j.fallback_agency!r} is not an agency")
    for c in j.categories:
        if c.deadline_hours <= 0:
            errors.append(f"category {c.code}: deadline_hours must be > 0")
    errors += _clock_errors("jurisdiction", j.office_hours, j.time_zone)
    for ag in j.agencies:
        errors += _clock_errors(f"agency {ag.id}", ag.office_hours, ag.time_zone)
    for a in j.areas:
        if a.parent is not None and a.parent not in areas:
            errors.append(f"area {a.id}: unknown parent {a.parent!r}")
        errors += [f"area {a.id}: {e}" for e in geometry_errors(a.geometry)]
    for r in j.rules:
        if r.agency not in agencies:
            errors.append(f"rule {r.id}: unknown agency {r.agency!r}")
        if r.category not in categories:
            errors.append(f"rule {r.id}: unknown category {r.category!r}")
        if r.area is not None and r.area not in areas:
            errors.append(f"rule {r.id}: unknown area {r.area!r}")
    return errors


def _clock_errors(where: str, week: dict[Weekday, list[str]] | None, zone: str | None) -> list[str]:
    errors = (
        [f"{where}: office_hours: {e}" for e in office_hours_errors(week or {})] if week else []
    )
    if week is not None and not week:
        errors.append(f"{where}: office_hours: no open period in the week")
    problem = time_zone_error(zone) if zone else None
    return errors + ([f"{where}: {problem}"] if problem else [])


# ------------------------------------------------------------------ routing decision


@dataclass(frozen=True)
class AreaHit:
    """An area that contains the report's point (`areas.AreaIndex.containing`)."""

    id: str
    level: str


@dataclass(frozen=True)
class Decision:
    agency_id: str
    reason: Literal["rule", "fallback", "disputed"]
    rule_id: str | None = None
    area_id: str | None = None


def candidates(j: Jurisdiction, category: str, hits: Sequence[AreaHit]) -> list[Decision]:
    """Rule matches in routing order: most specific area first, then rules valid anywhere.

    Ties (overlapping areas of one level, several rules for one area) are broken by id, so the
    same report always goes to the same agency.
    """
    ordered = sorted(hits, key=lambda h: (LEVEL_RANK.get(h.level, 99), h.id))
    rules = sorted((r for r in j.rules if r.category == category), key=lambda r: r.id)
    out: list[Decision] = []
    for hit in ordered:
        out += [Decision(r.agency, "rule", r.id, hit.id) for r in rules if r.area == hit.id]
    out += [Decision(r.agency, "rule", r.id, None) for r in rules if r.area is None]
    return out


def choose(
    j: Jurisdiction,
    category: str,
    hits: Sequence[AreaHit],
    exclude: Iterable[str] = (),
) -> Decision:
    """The first candidate agency not in `exclude` (agencies that rejected it), else the fallback."""
    excluded = set(exclude)
    for decision in candidates(j, category, hits):
        if decision.agency_id not in excluded and j.agency(decision.agency_id) is not None:
            return decision
    return Decision(j.fallback_agency, "fallback")
