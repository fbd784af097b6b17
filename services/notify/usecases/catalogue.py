"""The catalogue as events use it: from memory, and what a newer version means for notify.

The copy itself (`shared/catalog_copy.py`) is held in memory, read again from the database at
most once per `max_age_s`, and remembered once the unit of work that saved a newer one has
committed (`offer`). With several replicas only one of them consumes the catalogue topic; the
others learn of a new version when their copy ages out, and such a version comes back from
`current` as `fresher` until it is offered: what this replica recorded with the older one may
need the backfill (which is idempotent, so every replica may run it).
"""

from __future__ import annotations

from services.notify.domain.catalog import Directory, directory_of
from services.notify.usecases.ports import Catalogs
from shared.catalog import CatalogV1
from shared.uow import Session


class CatalogueCache:
    def __init__(self, store: Catalogs) -> None:
        self.store = store
        self._started = False
        self._told: int | None = None  # the newest version whose news this replica has told
        self._directory: tuple[int, Directory] | None = None

    @property
    def version(self) -> int | None:
        """The newest version this replica has told the news of (None before any)."""
        return self._told

    async def current(self) -> tuple[Directory, CatalogV1 | None]:
        """The directory to use now, and the catalogue when it is newer than the one whose
        news this replica has told (None otherwise)."""
        catalog = await self.store.current()
        if not self._started:  # what is stored at start is what the replica starts from
            self._started = True
            self._told = catalog.version if catalog is not None else None
        if catalog is None:
            return Directory(), None
        fresher = catalog if self._told is None or catalog.version > self._told else None
        return self._directory_of(catalog), fresher

    async def save(self, catalog: CatalogV1, session: Session) -> bool:
        """Stores `catalog` unless the stored copy is as new; `offer` it once committed."""
        return await self.store.save(catalog, session)

    def offer(self, catalog: CatalogV1) -> None:
        """A catalogue whose unit of work committed (its news told): held from now on."""
        self.store.remember(catalog)
        if self._told is None or catalog.version > self._told:
            self._told = catalog.version

    def _directory_of(self, catalog: CatalogV1) -> Directory:
        if self._directory is None or self._directory[0] != catalog.version:
            self._directory = (catalog.version, directory_of(catalog))
        return self._directory[1]
