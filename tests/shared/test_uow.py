"""The unit of work: the in-memory fake (no I/O) and the MongoDB one (real server)."""

from __future__ import annotations

import pytest

from shared.events import ReportSupportedV1, Topic, utcnow
from shared.outbox import OUTBOX
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.uow import FakeTransactions, UnitOfWork
from tests.support import unique


def _support(report_id: str) -> ReportSupportedV1:
    return ReportSupportedV1(report_id=report_id, supporters=1, at=utcnow())


async def test_fake_keeps_the_events_of_a_committed_unit_and_wakes_once() -> None:
    tx = FakeTransactions()

    async def work(uow: UnitOfWork) -> None:
        await uow.emit(Topic.REPORT_SUPPORTED, "r1", _support("r1"))
        await uow.emit(Topic.REPORT_SUPPORTED, "r1", _support("r1"))

    await tx.run(work)
    assert [e.sequence for e in tx.emitted] == [1, 2]
    assert (tx.commits, tx.wakeups) == (1, 1)


async def test_fake_drops_the_events_and_sequences_of_a_failed_unit() -> None:
    tx = FakeTransactions()

    async def failing(uow: UnitOfWork) -> None:
        await uow.emit(Topic.REPORT_SUPPORTED, "r1", _support("r1"))
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await tx.run(failing)
    event = await tx.run(lambda uow: uow.emit(Topic.REPORT_SUPPORTED, "r1", _support("r1")))
    assert (tx.emitted, event.sequence, tx.rollbacks) == ([event], 1, 1)


async def test_mongo_unit_writes_state_and_outbox_together_or_not_at_all(
    env: dict[str, str],
) -> None:
    settings = ServiceSettings(service_name=unique("uow"), **env)  # type: ignore[arg-type]
    rt = Runtime(settings, {})

    async def work(uow: UnitOfWork, fail: bool) -> None:
        await rt.db.state.insert_one({"_id": "r1" if not fail else "r2"}, session=uow.session)
        await uow.emit(Topic.REPORT_SUPPORTED, "r1", _support("r1"))
        if fail:
            raise RuntimeError("refused")

    await rt.transactions.run(lambda uow: work(uow, False))
    with pytest.raises(RuntimeError):
        await rt.transactions.run(lambda uow: work(uow, True))
    assert [d["_id"] async for d in rt.db.state.find()] == ["r1"]
    assert await rt.db[OUTBOX].count_documents({}) == 1
    await rt.client.close()


async def test_fake_runs_after_commit_callbacks_only_for_committed_units() -> None:
    tx = FakeTransactions()
    woken: list[str] = []

    async def work(uow: UnitOfWork, fail: bool) -> None:
        uow.after_commit(lambda: woken.append("fail" if fail else "ok"))
        if fail:
            raise RuntimeError("refused")

    await tx.run(lambda uow: work(uow, False))
    with pytest.raises(RuntimeError):
        await tx.run(lambda uow: work(uow, True))
    assert woken == ["ok"]
