"""An operator's correction of a report's category (`report.recategorized`): the fact follows
it, the rollups move the report to its corrected category, and corrections are counted from
the category filed to the corrected one."""

from __future__ import annotations

import itertools
from zoneinfo import ZoneInfo

from services.analytics.domain import corrections
from services.analytics.domain.corrections import Corrected
from services.analytics.domain.facts import Fact, build_fact
from services.analytics.domain.rollups import ALL, RollupRow, rebuilt
from tests.analytics.factory import Story

HUE = ZoneInfo("Asia/Ho_Chi_Minh")


def fact_of(story: Story) -> Fact:
    return build_fact(story.report_id, story.records(), HUE)


def corrected_story(report_id: str = "r1", agency: str = "water") -> Story:
    """Filed as a pothole by the resident, corrected to flooding, re-routed to `agency`."""
    story = Story(report_id).created(chosen_by="resident").assigned(5, "dot")
    return story.recategorized(10, "flood").assigned(11, agency, attempt=2)


def test_the_fact_follows_the_correction() -> None:
    fact = fact_of(corrected_story())
    assert (fact.category, fact.agency_id) == ("flood", "water")


def test_the_fact_keeps_what_the_report_was_filed_as_and_who_chose_it() -> None:
    fact = fact_of(corrected_story())
    assert (fact.original_category, fact.category_chosen_by, fact.recategorized) == (
        "pothole",
        "resident",
        1,
    )


def test_every_order_of_a_corrected_reports_events_gives_the_same_fact() -> None:
    records = corrected_story().records()
    facts = {repr(build_fact("r1", list(p), HUE)) for p in itertools.permutations(records)}
    assert len(facts) == 1


def test_the_latest_of_two_corrections_wins() -> None:
    story = Story("r").created().recategorized(10, "flood").recategorized(20, "light", "flood")
    assert fact_of(story).category == "light"


def test_a_later_reopen_naming_a_category_overrides_a_correction() -> None:
    story = Story("r").created().recategorized(10, "flood")
    story.reopened(30)
    story.events[-1].data["category"] = "light"
    assert fact_of(story).category == "light"


def test_a_correction_after_a_reopen_wins() -> None:
    story = Story("r").created().reopened(5)
    story.events[-1].data["category"] = "light"
    assert fact_of(story.recategorized(10, "flood", "light")).category == "flood"


def test_a_corrected_report_counts_once_under_its_corrected_category() -> None:
    lines = rebuilt([fact_of(corrected_story())], 0.01).lines()
    counted = {k.category: c["n"] for k, c in lines if k.kind == ALL}
    assert counted == {"flood": 1}


def test_the_rollups_move_the_report_when_the_correction_arrives() -> None:
    before = fact_of(Story("r1").created().assigned(5, "dot"))
    delta = rebuilt([before], 0.01)
    delta.move(before, fact_of(corrected_story()))
    counted = {(k.category, k.agency_id): c["n"] for k, c in delta.lines() if k.kind == ALL}
    assert counted == {("flood", "water"): 1}


def test_corrections_are_counted_from_the_filed_to_the_corrected_category_per_agency() -> None:
    facts = [fact_of(corrected_story("r1")), fact_of(corrected_story("r2", "parks"))]
    facts.append(fact_of(Story("r3").created().assigned(5, "dot")))
    lines = [row for row in _rows(facts) if row.key.kind == ALL]
    found, now_in = corrections.from_lines(lines)
    assert sorted(found, key=lambda c: c.agency_id or "") == [
        Corrected("pothole", "resident", "flood", "parks", 1),
        Corrected("pothole", "resident", "flood", "water", 1),
    ]
    assert now_in == {"flood": 2, "pothole": 1}


def test_a_report_corrected_back_to_its_first_category_is_not_a_correction() -> None:
    story = Story("r").created().recategorized(10, "flood").recategorized(20, "pothole", "flood")
    lines = [row for row in _rows([fact_of(story)]) if row.key.kind == ALL]
    assert corrections.from_lines(lines)[0] == []


def test_the_share_corrected_is_of_the_reports_filed_as_the_category() -> None:
    found = [Corrected("pothole", "resident", "flood", "water", 1)]
    table = corrections.table(found, {"flood": 2, "pothole": 3}, str.upper, str.upper)
    filed = {(r.category, r.filed, r.corrected, r.corrected_pct) for r in table.by_category}
    assert filed == {("pothole", 4, 1, 25.0), ("flood", 1, 0, 0.0)}
    assert [(r.from_category_name, r.to_category_name, r.agency_name) for r in table.items] == [
        ("POTHOLE", "FLOOD", "WATER")
    ]


def _rows(facts: list[Fact]) -> list[RollupRow]:
    return [RollupRow(k, c) for k, c in rebuilt(facts, 0.01).lines()]
