"""The sequence of intake's own events, kept in the report (use cases over fakes, no I/O):
consecutive per report from report.created's 1, with no counter of its own; a report stored
before the counter existed continues the shared one once, then keeps its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from services.intake.domain import rules
from services.intake.domain.report import ReportDraft
from shared.events import Status
from tests.intake.conftest import CATALOG
from tests.intake.fakes import T0, a_report, world
from tests.intake.test_usecases_upkeep import ANNOUNCEMENT

TOKEN = "secret-token"


def _sequences(w: object, report_id: str) -> list[tuple[str, int]]:
    emitted = w.tx.emitted  # type: ignore[attr-defined]
    return [(e.type, e.sequence) for e in emitted if e.subject == report_id]


async def test_a_reports_events_are_numbered_from_one_by_the_report_itself() -> None:
    w = world(CATALOG)
    draft = ReportDraft(category="pothole", lat=16.46, lon=107.59, description="ổ gà")
    created = await w.intake.file_report(draft, channel="api")
    rid = created.report.id
    assert w.reports.by_id[rid].sequence == 1
    # routing resolves it; the resident rates it, then reopens it
    w.reports.by_id[rid] = replace(w.reports.by_id[rid], status=Status.RESOLVED, resolved_at=T0)
    await w.intake.resident.rate(rid, created.tracking_token, 5, None)
    await w.intake.resident.reopen(rid, created.tracking_token, "again")
    await w.intake.resident.support(rid, "client")
    assert _sequences(w, rid) == [
        ("report.created", 1),
        ("report.rated", 2),
        ("report.closed", 3),
        ("report.reopened", 4),
        ("report.supported", 5),
    ]
    assert w.reports.by_id[rid].sequence == 5


async def test_the_reconciler_and_auto_close_continue_the_reports_own_count() -> None:
    w = world(
        None,
        a_report("r1", sequence=3, announcement=ANNOUNCEMENT),
        a_report("r2", sequence=7, status=Status.RESOLVED, resolved_at=T0 - timedelta(days=30)),
    )
    w.clock[0] = T0 + timedelta(hours=1)
    await w.intake.upkeep.reconcile_once()
    await w.intake.upkeep.autoclose_once()
    assert _sequences(w, "r1") == [("report.created", 4)]
    assert _sequences(w, "r2") == [("report.closed", 8)]
    assert (w.reports.by_id["r1"].sequence, w.reports.by_id["r2"].sequence) == (4, 8)


async def test_a_report_stored_before_the_counter_continues_the_shared_one_then_its_own() -> None:
    w = world(None, a_report(token_hash=rules.token_hash(TOKEN)))  # sequence None
    w.tx._sequences["r1"] = 6  # what the shared counter had given it
    await w.intake.resident.support("r1", "a")
    await w.intake.resident.support("r1", "b")
    assert _sequences(w, "r1") == [("report.supported", 7), ("report.supported", 8)]
    assert w.reports.by_id["r1"].sequence == 8
