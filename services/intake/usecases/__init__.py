"""Intake's use cases, one module per audience: `create` (filing a report), `resident` (the
resident's actions and anonymous tokens), `quotas` (rate limits), `open311` (GeoReport v2 clients), `events` (consumed events), `upkeep`
(housekeeping) and `queries` (reads). `app.py` builds them and hands this set to the edge."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .create import FileReport
from .events import ConsumedEvents
from .open311 import Open311
from .queries import Queries
from .quotas import Quotas
from .resident import ResidentActions, ResidentTokens
from .triage import Triage
from .upkeep import Upkeep


@dataclass(frozen=True)
class Intake:
    """The wired use cases (`app.state.intake`): routes and subscribers reach them here."""

    file_report: FileReport
    quotas: Quotas
    resident: ResidentActions
    residents: ResidentTokens
    queries: Queries
    open311: Open311
    events: ConsumedEvents
    upkeep: Upkeep
    city_zone: ZoneInfo  # the public view's due time is shown on this clock
    triage: Triage | None = None  # the category suggestion (issue 14)
