"""MongoDB adapters of analytics (all in its own database):

- `facts` (`stores/facts.py`): one document per report: its fact (`domain/facts.py`), every
  event received for it (the sealed contact and free text dropped), and two query fields
  (`overdue_from`, `resolve_bucket`). Written by the consumer, in the same unit of work as the
  events' processed-event records and the rollups.
- `rollups` (`stores/rollups.py`): running totals of the facts (`domain/rollups.py`), read by
  every statistic without a date window; `meta` records the rules and grid cell they were
  built with.
- `stores/windowed.py`, `stores/queries.py`: the statistics' reads.
- `catalog`: routing's whole catalogue, newest version wins (`shared/catalog_copy.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import IndexModel

from services.analytics.stores.facts import FACTS, FACTS_INDEXES, FACTS_RETIRED, FactStore
from services.analytics.stores.queries import FactQueries
from services.analytics.stores.rollups import ROLLUPS, ROLLUPS_INDEXES, RollupGate, RollupStore

INDEXES: dict[str, Sequence[IndexModel]] = {FACTS: FACTS_INDEXES, ROLLUPS: ROLLUPS_INDEXES}
RETIRED: dict[str, Sequence[str]] = {FACTS: FACTS_RETIRED}  # dropped at startup

__all__ = ["INDEXES", "RETIRED", "FactQueries", "FactStore", "RollupGate", "RollupStore"]
