"""Display names from the jurisdiction catalogue, by language, with fallbacks.

Analytics keeps routing's whole catalogue (`shared/catalog_copy.py`); this derives the names.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.catalog import CatalogV1


def pick(names: Mapping[str, str] | None, lang: str) -> str | None:
    """The name in `lang`, else Vietnamese, else English, else any."""
    if not names:
        return None
    for code in (lang, "vi", "en"):
        if names.get(code):
            return names[code]
    return next(iter(names.values()), None)


class Names:
    """Agency and category names of one catalogue (none yet: every name falls back)."""

    def __init__(self, catalog: CatalogV1 | None) -> None:
        self.agencies = {a.id: a.name for a in catalog.agencies} if catalog else {}
        self.categories = {c.code: c.name for c in catalog.categories} if catalog else {}

    def agency(self, agency_id: str, lang: str, fallback: str | None = None) -> str:
        """The catalogue's name, else `fallback` (the name routing sent), else the id."""
        return pick(self.agencies.get(agency_id), lang) or fallback or agency_id

    def category(self, code: str, lang: str) -> str:
        return pick(self.categories.get(code), lang) or code
