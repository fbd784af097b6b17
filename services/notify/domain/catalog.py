"""What notify takes from the catalogue: agencies' public contacts and names, category names."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.notify.domain.model import AgencyContact
from shared.catalog import CatalogV1


@dataclass(frozen=True)
class Directory:
    agencies: dict[str, AgencyContact] = field(default_factory=dict)
    categories: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> name by lang


def directory_of(catalog: CatalogV1 | None) -> Directory:
    """The directory of a catalogue (an empty one before any catalogue arrived)."""
    if catalog is None:
        return Directory()
    return Directory(
        agencies={
            a.id: AgencyContact(a.id, dict(a.name), dict(a.contacts)) for a in catalog.agencies
        },
        categories={c.code: dict(c.name) for c in catalog.categories},
    )


def agency_name(agency: AgencyContact | None, lang: str) -> str | None:
    """The agency's name in `lang`, else in any language it has."""
    if agency is None:
        return None
    return agency.name.get(lang) or next(iter(agency.name.values()), None)
