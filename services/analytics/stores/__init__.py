"""MongoDB adapters of analytics (all in its own database):

- `events` (`stores/events.py`): every event received, `_id` = event id (so a duplicate is a
  no-op), keyed by report; `dirty`: reports whose fact must be recomputed, `token` = id of the
  last event recorded.
- `facts` (`stores/facts.py`): one document per report (`domain/facts.py`), written only by the
  projector and never replaced by a fact computed from fewer events (`n_events` guard); the
  statistics are aggregations over it.
- `catalog`: routing's whole catalogue, newest version wins (`shared/catalog_copy.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import IndexModel

from services.analytics.stores.events import EVENTS, EVENTS_INDEXES, EventLog
from services.analytics.stores.facts import FACTS, FACTS_INDEXES, FactQueries, FactStore

INDEXES: dict[str, Sequence[IndexModel]] = {EVENTS: EVENTS_INDEXES, FACTS: FACTS_INDEXES}

__all__ = ["INDEXES", "EventLog", "FactQueries", "FactStore"]
