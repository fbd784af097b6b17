"""Display names from the jurisdiction catalogue, by language, with fallbacks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.events import CatalogV1

LANGUAGES = ("vi", "en")


def catalog_names(catalog: CatalogV1) -> dict[str, Any]:
    """The part of the catalogue analytics keeps: names of agencies and categories."""
    return {
        "agencies": {a.id: dict(a.name) for a in catalog.agencies},
        "categories": {
            c.code: {"name": dict(c.name), "group": c.group, "deadline_hours": c.deadline_hours}
            for c in catalog.categories
        },
    }


def pick(names: Mapping[str, str] | None, lang: str) -> str | None:
    """The name in `lang`, else Vietnamese, else English, else any."""
    if not names:
        return None
    for code in (lang, "vi", "en"):
        if names.get(code):
            return names[code]
    return next(iter(names.values()), None)


def agency_name(catalog: Mapping[str, Any], agency_id: str, lang: str, fallback: str | None) -> str:
    return pick(catalog.get("agencies", {}).get(agency_id), lang) or fallback or agency_id


def category_name(catalog: Mapping[str, Any], code: str, lang: str) -> str:
    entry = catalog.get("categories", {}).get(code) or {}
    return pick(entry.get("name"), lang) or code
