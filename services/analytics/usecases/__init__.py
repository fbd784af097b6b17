"""Analytics' use cases: recording events (`events.py`), projecting facts (`projection.py`),
the statistics queries (`statistics.py`), the business gauges (`gauges.py`) and the dashboard
page (`dashboard.py`). `UseCases` is what `app.py` wires and the routes read
(`app.state.analytics`)."""

from __future__ import annotations

from dataclasses import dataclass

from services.analytics.usecases.dashboard import DashboardPage
from services.analytics.usecases.events import KeepCatalog, RecordReportEvent
from services.analytics.usecases.gauges import BusinessGauges
from services.analytics.usecases.projection import Projector
from services.analytics.usecases.statistics import Statistics


@dataclass(frozen=True)
class UseCases:
    record: RecordReportEvent
    keep_catalog: KeepCatalog
    projector: Projector
    statistics: Statistics
    gauges: BusinessGauges
    dashboard: DashboardPage
