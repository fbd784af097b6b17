"""The bench's pure parts, on made-up data: no server, milliseconds."""

from __future__ import annotations

from datetime import datetime, timedelta

from bench import invariants, report
from bench.dbprobe import OpsSample, ops_between
from bench.seed import Clone, intake_derived
from services.intake.domain.cells import cell_of

A, B = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def _delivery(report_id: str, event: str, channel: str = "email") -> dict[str, str]:
    return {
        "report_id": report_id,
        "event_id": f"{event}-{report_id}",
        "event_type": event,
        "recipient_kind": "resident",
        "recipient_id": "resident",
        "channel": channel,
        "status": "sent",
    }


def _healthy() -> dict[str, object]:
    return {
        "assignments": [
            {"report_id": A, "status": "assigned"},
            {"report_id": B, "status": "resolved"},
        ],
        "intake_status": {A: "assigned", B: "closed"},
        "deliveries": [_delivery(A, "report.assigned"), _delivery(B, "report.assigned")],
        "facts": {A, B},
        "intake_total": 2,
        "analytics_total": 2,
    }


def _failed(verdicts: list[invariants.Verdict]) -> list[str]:
    return [v.name for v in verdicts if not v.ok]


def test_a_consistent_pipeline_passes_every_invariant() -> None:
    assert _failed(invariants.check([A, B], **_healthy())) == []  # type: ignore[arg-type]


def test_a_second_assignment_of_a_report_fails_and_names_it() -> None:
    data = _healthy()
    data["assignments"] = [*data["assignments"], {"report_id": A, "status": "assigned"}]  # type: ignore[misc]
    [verdict] = [v for v in invariants.check([A, B], **data) if not v.ok]  # type: ignore[arg-type]
    assert verdict.name.startswith("exactly one current assignment")
    assert A in verdict.detail
    assert verdict.bad == 1


def test_intake_behind_routing_is_a_disagreement() -> None:
    data = _healthy()
    data["intake_status"] = {A: "received", B: "closed"}
    assert _failed(invariants.check([A, B], **data)) == ["intake's status equals routing's state"]  # type: ignore[arg-type]


def test_a_doubled_delivery_fails_but_two_channels_do_not() -> None:
    data = _healthy()
    data["deliveries"] = [*data["deliveries"], _delivery(A, "report.assigned", "sms")]  # type: ignore[misc]
    assert _failed(invariants.check([A, B], **data)) == []  # type: ignore[arg-type]
    data["deliveries"] = [*data["deliveries"], _delivery(A, "report.assigned")]  # type: ignore[misc]
    assert _failed(invariants.check([A, B], **data)) == [  # type: ignore[arg-type]
        "exactly one delivery per (event, recipient, channel) (notify)"
    ]


def test_a_missing_fact_and_a_short_total_both_fail() -> None:
    data = _healthy()
    data["facts"], data["analytics_total"] = {A}, 1
    assert len(_failed(invariants.check([A, B], **data))) == 2  # type: ignore[arg-type]


def test_an_email_arriving_twice_fails_the_mail_sink_check() -> None:
    verdicts = invariants.check(
        [A, B],
        mail_per_address={"a@x": 2},
        sent_email_per_address={"a@x": 1},
        **_healthy(),  # type: ignore[arg-type]
    )
    assert _failed(verdicts) == ["each email notify sent arrived exactly once (mail sink)"]


def test_a_resident_email_ended_without_being_sent_fails_and_says_why() -> None:
    data = _healthy()
    skipped = _delivery(B, "report.created") | {"status": "skipped", "last_error": "unsubscribed"}
    data["deliveries"] = [*data["deliveries"], skipped]  # type: ignore[misc]
    verdicts = invariants.check(
        [A, B],
        mail_per_address={},
        sent_email_per_address={},
        **data,  # type: ignore[arg-type]
    )
    [verdict] = [v for v in verdicts if not v.ok]
    assert verdict.name == "every resident email delivery sent (notify)"
    assert (verdict.checked, verdict.bad, verdict.detail) == (3, 1, "1 skipped (unsubscribed)")


def test_a_clone_remaps_ids_consistently_and_moves_time_and_place() -> None:
    clone = Clone(timedelta(days=10), 0.001, -0.002)
    at = datetime(2026, 6, 1, 12)
    doc = {
        "_id": A,
        "dedupe_key": f"{A}:received",
        "owner": "0123456789abcdef0123456789abcdef",
        "created_at": at,
        "created_day": "2026-06-01",
        "created_week": "2026-06-01",
        "location": {"type": "Point", "coordinates": [107.5, 16.4]},
        "lat": 16.4,
        "lon": 107.5,
        "lease_until": datetime(1970, 1, 1),
        "event": {"time": "2026-06-01T12:00:00.000000Z"},
    }
    new = clone.mapping(doc)
    assert new["_id"] != A
    assert new["dedupe_key"] == f"{new['_id']}:received"
    assert new["owner"] != doc["owner"]
    assert len(new["owner"]) == 32
    assert new["created_at"] == at - timedelta(days=10)
    assert new["created_day"] == "2026-05-22"
    assert new["created_week"] == "2026-05-18"
    assert new["location"]["coordinates"] == [107.498, 16.401]
    assert (new["lat"], new["lon"]) == (16.401, 107.498)
    assert new["lease_until"] == datetime(1970, 1, 1)
    assert new["event"]["time"] == "2026-05-22T12:00:00.000000Z"


def test_a_copied_open_report_gets_the_cells_of_its_moved_place() -> None:
    at = datetime(2026, 6, 1, 12)
    doc = {"status": "assigned", "category": "pothole", "lat": 16.4, "lon": 107.5,
           "created_at": at, "open_cells": ["stale"], "upkeep_at": at}  # fmt: skip
    new = Clone(timedelta(days=1), 0.0027, 0.0027).mapping(doc)
    intake_derived(new)
    here = cell_of(new["lat"], new["lon"]).key
    assert new["open_cells"] == [here, f"pothole@{here}"]
    assert "upkeep_at" not in new  # an assigned report has no housekeeping time


def test_a_copied_closed_report_has_no_open_cells() -> None:
    doc = {"status": "closed", "category": "pothole", "lat": 16.4, "lon": 107.5,
           "created_at": datetime(2026, 6, 1), "open_cells": ["pothole@1:2"]}  # fmt: skip
    intake_derived(doc)
    assert "open_cells" not in doc


def test_own_commands_are_taken_out_of_the_servers_counters() -> None:
    a = OpsSample(at=0.0, total=100, by_kind={}, own=5)
    b = OpsSample(at=1.0, total=130, by_kind={}, own=15)
    assert ops_between(a, b) == 20


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert report.pct(values, 0.99) == 99.0
    assert report.pct(values, 0.5) == 50.0
    assert report.pct([], 0.5) is None


def test_a_window_is_split_by_service_from_the_per_database_counts() -> None:
    from bench.dbprobe import by_service, top_by_db

    top = {
        "note": "all times in microseconds",
        "fr_intake.reports": {"total": {"count": 7, "time": 1}, "getmore": {"count": 1}},
        "fr_intake.outbox": {"total": {"count": 3, "time": 1}},
        "fr_routing.assignments": {"total": {"count": 5, "time": 1}},
    }
    assert top_by_db(top) == {"fr_intake": 10, "fr_routing": 5}
    assert top_by_db(top, "getmore") == {"fr_intake": 1, "fr_routing": 0}
    dbs = {"intake": "fr_intake", "routing": "fr_routing"}
    a = OpsSample(0.0, 100, {}, 0, by_db={"fr_intake": 10, "fr_routing": 5}, own_by_db={})
    b = OpsSample(
        2.0, 160, {}, 4, by_db={"fr_intake": 40, "fr_routing": 15}, own_by_db={"fr_intake": 4}
    )
    # intake: 30 counted, 4 of them the bench's own, 1/s idle over 2 s; routing: 10
    split = by_service(a, b, dbs, idle={"intake": 1.0}, total=50.0)
    assert split == {"intake": 24.0, "routing": 10.0, "other": 16.0}
    assert by_service(OpsSample(0.0, 0, {}, 0), OpsSample(1.0, 0, {}, 0), dbs) == {}


def test_the_bench_counts_its_own_commands_per_database_like_the_servers_top() -> None:
    from bench.dbprobe import namespace_of

    assert namespace_of("find", {"find": "reports", "filter": {}}) == "reports"
    assert namespace_of("getMore", {"getMore": 123, "collection": "facts"}) == "facts"
    assert namespace_of("serverStatus", {"serverStatus": 1}) is None
    assert namespace_of("commitTransaction", {"commitTransaction": 1}) is None


def test_a_resent_email_is_told_apart_from_a_second_delivery() -> None:
    assert invariants.delivery_token("<177.12.345.abcdef0123456789@host>") == "abcdef0123456789"
    assert invariants.delivery_token("<177.12.345@host>") is None
    sent = {"a@x": 1, "b@x": 2}
    # a@x got its one delivery twice (resent after a kill); b@x got both of its deliveries
    ok = invariants.check(
        [A, B],
        mail_per_address={"a@x": 2, "b@x": 2},
        distinct_mail_per_address={"a@x": 1, "b@x": 2},
        sent_email_per_address=sent,
        **_healthy(),  # type: ignore[arg-type]
    )
    assert _failed(ok) == []
    assert ok[-1].detail == "1 resent"
    # b@x lost one of its two deliveries
    lost = invariants.check(
        [A, B],
        mail_per_address={"a@x": 1, "b@x": 2},
        distinct_mail_per_address={"a@x": 1, "b@x": 1},
        sent_email_per_address=sent,
        **_healthy(),  # type: ignore[arg-type]
    )
    assert _failed(lost) == [
        "each email delivery notify sent arrived, once per delivery (mail sink)"
    ]


def test_an_event_announced_twice_or_never_fails() -> None:
    data = _healthy()
    data["announced"] = {"report.assigned": {A: 1, B: 2}, "report.created": {A: 1}}
    failed = _failed(invariants.check([A, B], **data))  # type: ignore[arg-type]
    assert failed == [
        "exactly one report.assigned event per report (its producer's outbox)",
        "exactly one report.created event per report (its producer's outbox)",
    ]


def test_a_kill_with_nothing_in_flight_or_no_restart_fails_the_fault_run() -> None:
    from bench.faults import Kill, _in_flight, fault_verdicts

    done = {"routed": 40, "assigned": 30, "notified": 20, "projected": 35}
    assert [_in_flight(s, 50, done) for s in ("routing", "intake", "notify", "analytics")] == [
        10,
        20,
        30,
        15,
    ]
    kills = [Kill("routing", 1, 1.0, 50, done, 10, 5.0), Kill("notify", 2, 9.0, 50, done, 0)]
    verdicts = fault_verdicts(kills, ["routing", "notify", "intake"])
    assert [v.ok for v in verdicts] == [False, False]
    assert "not killed: intake" in verdicts[0].detail
    assert "nothing in flight: notify" in verdicts[0].detail
    assert verdicts[1].detail == "not back: notify"


def test_dropped_indexes_are_built_again_with_their_names_and_options() -> None:
    from bench.seed import index_models

    specs = [
        {"v": 2, "key": {"sent_at": 1}, "name": "sent_ttl", "expireAfterSeconds": 604800},
        {"v": 2, "key": {"location": "2dsphere"}, "name": "location_2dsphere"},
        {"v": 2, "key": {"a": 1, "b": -1}, "name": "ab", "unique": True},
    ]
    docs = [m.document for m in index_models(specs)]
    assert docs == [
        {"key": {"sent_at": 1}, "name": "sent_ttl", "expireAfterSeconds": 604800},
        {"key": {"location": "2dsphere"}, "name": "location_2dsphere"},
        {"key": {"a": 1, "b": -1}, "name": "ab", "unique": True},
    ]
