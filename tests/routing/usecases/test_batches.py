"""A batch of incoming reports over fakes: bulk reads and writes, and the same result as the
same events applied one after another."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from services.routing.domain.assignment import AState
from services.routing.domain.errors import ChangedMeanwhile
from services.routing.usecases.events import Arrival
from shared.events import ReportReopenedV1
from tests.routing.fakes import Routing, created, staff

NOWHERE = (0.0, 0.0)


def new(report_id: str, sequence: int = 1, point: tuple[float, float] | None = None) -> Arrival:
    return Arrival(created(report_id, point=point or (107.599, 16.459)), sequence)


def reopen(r: Routing, report_id: str, sequence: int) -> Arrival:
    return Arrival(ReportReopenedV1(report_id=report_id, reason="again", at=r.clock()), sequence)


async def batch(r: Routing, *arrivals: Arrival) -> None:
    await r.tx.run(lambda uow: r.reports.arrive(list(arrivals), uow))


async def one_by_one(r: Routing, *arrivals: Arrival) -> None:
    for one in arrivals:
        await batch(r, one)


def outcome(r: Routing) -> tuple[list[Any], list[Any], dict[str, float]]:
    """Everything observable, ids aside: stored assignments, committed events, counters."""
    rows = sorted(r.assignments.rows.values(), key=lambda row: row[0].report_id)
    # The ids and revisions differ (an insert and a save, or one insert), the rest may not.
    stored = [{**dataclasses.asdict(a), "id": None} for a, _ in rows]
    events = [
        (e.type, e.subject, e.sequence, {**e.data, "assignment_id": None}) for e in r.tx.emitted
    ]
    counters = {
        name: r.metric(name, **labels)
        for name, labels in (
            ("routing_assignments_total", {"reason": "rule"}),
            ("routing_assignments_total", {"reason": "fallback"}),
            ("routing_unknown_reopen_total", {}),
        )
    }
    return stored, events, counters


async def test_a_batch_of_new_reports_is_one_read_and_one_write_with_first_sequences() -> None:
    r = Routing()
    await batch(r, new("r1"), new("r2"), new("r3", point=NOWHERE))
    assert r.assignments.calls == ["by_reports", "insert"]
    assert [(e.subject, e.sequence) for e in r.tx.of_type("report.assigned")] == [
        ("r1", 1),
        ("r2", 1),
        ("r3", 1),
    ]
    assert r.metric("routing_assignments_total", reason="fallback") == 1


async def test_known_reports_in_a_batch_are_read_once_and_saved_once() -> None:
    r = Routing()
    await batch(r, new("r1"), new("r2"))
    r.assignments.calls.clear()
    await batch(r, new("r1", 2), new("r2", 2), new("r3"))
    assert r.assignments.calls == ["by_reports", "insert", "save_many"]
    assert [(e.subject, e.sequence) for e in r.tx.of_type("report.assigned")][2:] == [
        ("r1", 2),
        ("r2", 2),
        ("r3", 1),
    ]


async def test_a_lone_new_report_is_one_write_and_a_known_one_takes_the_general_path() -> None:
    r = Routing()
    await batch(r, new("r1"))
    assert r.assignments.calls == ["insert_absent"]
    await batch(r, new("r1", 2))
    assert r.assignments.calls[1:] == ["insert_absent", "by_reports", "save_many"]
    assert [e.sequence for e in r.tx.of_type("report.assigned")] == [1, 2]
    assert len(r.assignments.rows) == 1


@pytest.mark.parametrize(
    "events",
    [
        pytest.param(lambda r: [new("r1"), new("r1", 2)], id="created-twice"),
        pytest.param(lambda r: [new("r1"), reopen(r, "r1", 2)], id="created-then-reopened"),
        pytest.param(lambda r: [reopen(r, "r1", 2), new("r1")], id="reopened-before-created"),
        pytest.param(lambda r: [new("r1"), new("r2"), new("r1", 3), new("r2")], id="interleaved"),
    ],
)
async def test_a_batch_gives_what_one_event_after_another_gives(events: Any) -> None:
    together, apart = Routing(), Routing()
    await batch(together, *events(together))
    await one_by_one(apart, *events(apart))
    assert outcome(together) == outcome(apart)


async def test_a_batch_reopening_resolved_reports_gives_what_one_by_one_gives() -> None:
    results = []
    for apply in (batch, one_by_one):
        r = Routing()
        await batch(r, new("r1"), new("r2"))
        for rid in ("r1", "r2"):
            found = await r.assignments.by_report(rid)
            assert found is not None
            await r.staff.resolve(staff("phu-hoi-ward"), found[0].id, "done", [])
        await apply(r, reopen(r, "r1", 2), reopen(r, "r2", 2), reopen(r, "r1", 3))
        results.append(outcome(r))
    assert results[0] == results[1]
    stored = results[0][0]
    assert [(a["status"], a["attempt"]) for a in stored] == [("assigned", 2), ("assigned", 2)]


async def test_a_batch_of_one_report_reopened_and_unknown_counts_it_after_commit() -> None:
    r = Routing()
    await batch(r, reopen(r, "ghost", 2))
    assert (r.metric("routing_unknown_reopen_total"), r.tx.emitted) == (1.0, [])


async def test_a_refused_batch_emits_and_counts_nothing() -> None:
    r = Routing()
    await batch(r, new("r1"))
    [a_id] = r.assignments.rows
    await r.staff.resolve(staff("phu-hoi-ward"), a_id, "done", [])
    read = r.assignments.by_reports

    async def then_saved_elsewhere(ids: Any, session: Any = None) -> Any:
        found = await read(ids)
        a, rev = r.assignments.rows[a_id]
        r.assignments.rows[a_id] = (a, rev + 1)
        return found

    r.assignments.by_reports = then_saved_elsewhere  # type: ignore[method-assign,assignment]
    emitted, counted = len(r.tx.emitted), r.metric("routing_assignments_total", reason="rule")
    with pytest.raises(ChangedMeanwhile):
        await batch(r, reopen(r, "r1", 2), new("r2"))
    assert len(r.tx.emitted) == emitted
    assert r.metric("routing_assignments_total", reason="rule") == counted


async def test_a_report_inserted_meanwhile_makes_the_batch_fail_for_a_retry() -> None:
    r = Routing()
    racing = Routing(assignments=r.assignments)
    read = r.assignments.by_reports

    async def before_the_other_committed(ids: Any, session: Any = None) -> Any:
        r.assignments.by_reports = read  # type: ignore[method-assign]
        await racing.route("r1")  # commits between this batch's read and its write
        return {}

    r.assignments.by_reports = before_the_other_committed  # type: ignore[method-assign,assignment]
    with pytest.raises(ChangedMeanwhile):
        await batch(r, reopen(r, "r1", 2), new("r1"))
    await batch(r, reopen(r, "r1", 2), new("r1"))  # the retry: the report is known now
    assert len(r.assignments.rows) == 1
    assert [(e.type, e.sequence) for e in r.tx.emitted] == [("report.assigned", 2)]


async def test_a_reannounce_continues_the_report_sequence() -> None:
    r = Routing()
    a = await r.route()
    await r.staff.accept(staff("phu-hoi-ward"), a.id, None)
    await r.route(sequence=2)
    assert [(e.type, e.sequence) for e in r.tx.emitted] == [
        ("report.assigned", 1),
        ("report.accepted", 2),
        ("report.assigned", 3),
        ("report.accepted", 4),
    ]
    assert r.assignments.stored(a.id).event_seq == 4


async def test_routing_reads_no_jurisdiction_from_the_store() -> None:
    r = Routing()
    await r.admin.seed_and_publish()
    reads = r.jurisdiction_store.reads
    await batch(r, new("r1"), new("r2"))
    a = await r.route("r3")
    await r.staff.reject(staff("phu-hoi-ward"), a.id, "not ours")
    assert r.jurisdiction_store.reads == reads
    assert r.assignments.stored(a.id).status == AState.ASSIGNED
