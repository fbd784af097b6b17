"""Administrators: the jurisdiction (read, replace) and the catalogue published from it."""

from __future__ import annotations

import logging
from typing import Any

from services.routing.domain.assignment import Actor
from services.routing.domain.closures import Closures
from services.routing.domain.errors import AreaRefused, InvalidJurisdiction
from services.routing.domain.jurisdiction import Agency, Jurisdiction, parse
from services.routing.usecases.accounts import Accounts
from services.routing.usecases.workflow import Clock, Jurisdictions
from shared.catalog import CATALOG_KEY, AgencyRefV1, CatalogV1, CategoryV1
from shared.events import Topic
from shared.uow import Transactions, UnitOfWork

log = logging.getLogger(__name__)


class JurisdictionAdmin:
    def __init__(
        self,
        transactions: Transactions,
        jurisdictions: Jurisdictions,
        accounts: Accounts,
        clock: Clock,
        *,
        bootstrap_admin: tuple[str, str] | None = None,
    ) -> None:
        self.transactions = transactions
        self.jurisdictions = jurisdictions
        self.accounts = accounts
        self.clock = clock
        self.bootstrap_admin = bootstrap_admin

    async def current(self) -> Jurisdiction:
        """The whole document in force (the format of the seed file)."""
        return self.jurisdictions.current()

    async def agencies(self) -> list[Agency]:
        return self.jurisdictions.current().agencies

    async def active_categories(self) -> list[CategoryV1]:
        return [c for c in self.jurisdictions.current().categories if c.active]

    async def seed_and_publish(self) -> Jurisdiction:
        """At start: stores the seed file if newer than the database, (re)publishes the
        catalogue, makes the demo logins, lets routing start, then makes the bootstrap admin."""
        seed = self.jurisdictions.seed()

        async def work(uow: UnitOfWork) -> Jurisdiction:
            current = await self.jurisdictions.store.current(uow.session)
            if current is None or seed.version > current.version:
                await self.jurisdictions.store.save(seed, uow.session)
                current = seed
                log.info("jurisdiction version %d loaded from %s", seed.version, "file")
            await self._publish(uow, current)
            closures.append(await self.jurisdictions.store.closures(uow.session))
            return current

        closures: list[Closures] = []
        applied = await self.transactions.run(work)
        self.jurisdictions.hold(applied)
        self.jurisdictions.hold_closures(closures[-1])
        # Demo logins before routing starts: a report routed means its agency can log in.
        await self.accounts.seed_demo(applied)
        self.jurisdictions.seeded.set()
        if self.bootstrap_admin is not None:
            await self.accounts.bootstrap_admin(*self.bootstrap_admin)
        self.accounts.open.set()
        return applied

    async def replace(self, document: dict[str, Any], actor: Actor) -> Jurisdiction:
        """Validates the whole document (`InvalidJurisdiction` lists every problem), applies
        it with the next version and republishes the catalogue, in one unit of work."""
        candidate = parse({**document, "version": document.get("version") or 1})

        async def work(uow: UnitOfWork) -> Jurisdiction:
            # The stored version (another replica may have changed it), not the one held.
            stored = await self.jurisdictions.store.version(uow.session)
            version = stored or self.jurisdictions.current().version
            applied = candidate.model_copy(update={"version": version + 1})
            await self.jurisdictions.store.save(applied, uow.session)
            await self._publish(uow, applied)
            uow.after_commit(lambda: self.jurisdictions.hold(applied))
            return applied

        try:
            applied = await self.transactions.run(work)
        except AreaRefused as exc:
            # The transaction is aborted: the previous document and its areas stay in force.
            log.warning("jurisdiction change refused by the database: %s", exc)
            raise InvalidJurisdiction(
                [f"area {exc.area_id}: geometry refused by the database: {exc.reason}"]
            ) from exc
        log.info("jurisdiction version %d applied by %s", applied.version, actor.sub)
        await self.accounts.seed_demo(applied)
        return applied

    async def _publish(self, uow: UnitOfWork, j: Jurisdiction) -> None:
        """`jurisdiction.catalog` with the version as its sequence (newest wins downstream)."""
        catalog = CatalogV1(
            version=j.version,
            published_at=self.clock(),
            categories=j.categories,
            agencies=[AgencyRefV1.model_validate(a.model_dump()) for a in j.agencies],
        )
        await uow.emit(Topic.JURISDICTION_CATALOG, CATALOG_KEY, catalog, sequence=j.version)
