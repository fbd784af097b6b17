"""Analytics' use cases: projecting events into facts and rollups and keeping the catalogue
(`events.py`), building the rollups (`rollups.py`), the catalogue in memory (`catalog.py`), the
statistics queries (`statistics.py`), the business gauges (`gauges.py`) and the dashboard page
(`dashboard.py`). `UseCases` is what `app.py` wires and the routes read
(`app.state.analytics`)."""

from __future__ import annotations

from dataclasses import dataclass

from services.analytics.usecases.dashboard import DashboardPage
from services.analytics.usecases.events import KeepCatalog, ProjectEvents
from services.analytics.usecases.gauges import BusinessGauges
from services.analytics.usecases.rollups import BuildRollups
from services.analytics.usecases.statistics import Statistics


@dataclass(frozen=True)
class UseCases:
    project: ProjectEvents
    keep_catalog: KeepCatalog
    rollups: BuildRollups
    statistics: Statistics
    gauges: BusinessGauges
    dashboard: DashboardPage
