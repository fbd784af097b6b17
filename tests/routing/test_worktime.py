"""The working-time clock: office hours with a lunch break, weekends, Vietnam's holidays (Tết,
Hùng Kings), closure days, time zones (one with daylight saving time)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.routing.domain.closures import Closure, Closures
from services.routing.domain.worktime import (
    DEFAULT_OFFICE_HOURS,
    WEEKDAYS,
    Weekday,
    WorkCalendar,
    office_hours_errors,
    vietnam_holidays,
)
from tests.routing.test_domain import J

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE = WorkCalendar.of(DEFAULT_OFFICE_HOURS)  # Mon-Fri 07:30-11:30, 13:30-17:00


def hue(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=HUE)


def test_working_hours_skip_the_lunch_break() -> None:
    assert OFFICE.due(hue(2026, 3, 2, 10, 30), 2, "working_hours") == hue(2026, 3, 2, 14, 30)


def test_a_deadline_ending_at_closing_time_is_due_at_closing_time() -> None:
    assert OFFICE.due(hue(2026, 3, 2, 7, 30), 4, "working_hours") == hue(2026, 3, 2, 11, 30)


def test_a_report_filed_at_night_counts_from_the_next_opening() -> None:
    assert OFFICE.due(hue(2026, 3, 2, 22), 1, "working_hours") == hue(2026, 3, 3, 8, 30)


def test_the_weekend_does_not_count() -> None:
    friday = hue(2026, 3, 6, 16)
    assert OFFICE.due(friday, 2, "working_hours") == hue(2026, 3, 9, 8, 30)


def test_working_days_end_at_the_close_of_the_nth_day_after_receipt() -> None:
    assert OFFICE.due(hue(2026, 3, 2, 7, 0), 1, "working_days") == hue(2026, 3, 3, 17)
    assert OFFICE.due(hue(2026, 3, 6, 16), 2, "working_days") == hue(2026, 3, 10, 17)


def test_the_library_knows_tet_and_hung_kings() -> None:
    assert {date(2026, 2, 16), date(2026, 2, 20), date(2026, 4, 27)} <= vietnam_holidays(2026)
    assert {date(2027, 2, 6), date(2027, 4, 16)} <= vietnam_holidays(2027)


def test_72_working_hours_from_the_eve_of_tet_2026_land_after_the_holiday() -> None:
    # Tết 2026: Mon 16 - Fri 20 Feb. One hour on Fri 13 Feb, then 9 days of 7.5 h from Mon 23.
    eve = hue(2026, 2, 13, 16)
    assert OFFICE.due(eve, 72, "working_hours") == hue(2026, 3, 6, 11)


def test_72_working_hours_from_the_eve_of_tet_2027_land_after_the_holiday() -> None:
    # Tết 2027: Thu 4 - Wed 10 Feb. One hour on Wed 3 Feb, 9 days from Thu 11, 3.5 h on Wed 24.
    eve = hue(2027, 2, 3, 16)  # Wednesday, last working day before the holiday
    due = OFFICE.due(eve, 72, "working_hours")
    assert due == hue(2027, 2, 24, 11)
    assert OFFICE.working_time(eve, due) == timedelta(hours=72)


def test_no_working_time_passes_during_tet() -> None:
    assert OFFICE.working_time(hue(2026, 2, 14), hue(2026, 2, 23)) == timedelta()


def test_hung_kings_day_observed_is_not_a_working_day() -> None:
    friday = hue(2026, 4, 24, 16)  # Mon 27 Apr 2026: Hùng Kings' day (observed)
    assert OFFICE.due(friday, 1, "working_days") == hue(2026, 4, 28, 17)


def test_a_closure_day_is_skipped_for_its_agencies_only() -> None:
    closures = Closures(1, (Closure(date(2026, 3, 3), "typhoon", ("hue-water",)),))
    monday = hue(2026, 3, 2, 16)
    water = J.calendar("hue-water", closures)
    lighting = J.calendar("hue-lighting", closures)
    assert water.due(monday, 1, "working_days") == hue(2026, 3, 4, 17)
    assert lighting.due(monday, 1, "working_days") == hue(2026, 3, 3, 17)


def test_elapsed_and_remaining_working_time_between_instants() -> None:
    start, due = hue(2026, 3, 2, 10, 30), hue(2026, 3, 3, 10, 30)
    now = hue(2026, 3, 2, 15)
    assert OFFICE.working_time(start, now) == timedelta(hours=2, minutes=30)
    assert OFFICE.working_time(now, due) == timedelta(hours=5)


def test_an_agency_in_another_zone_counts_in_its_own_office_hours() -> None:
    tokyo = WorkCalendar.of({"mon": ["09:00-17:00"]}, "Asia/Tokyo", public_holidays=False)
    start = datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert tokyo.due(start, 8, "working_hours") == hue(2026, 3, 2, 15)


def test_working_time_across_a_daylight_saving_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    week: dict[Weekday, list[str]] = {d: ["09:00-17:00"] for d in WEEKDAYS[:5]}
    cal = WorkCalendar.of(week, "Europe/Berlin", public_holidays=False)  # clocks move 29 Mar
    friday = datetime(2026, 3, 27, 16, tzinfo=berlin)
    assert cal.due(friday, 2, "working_hours") == datetime(2026, 3, 30, 10, tzinfo=berlin)
    assert cal.working_time(friday, datetime(2026, 3, 30, 10, tzinfo=berlin)) == timedelta(hours=2)


def test_calendar_hours_ignore_the_clock() -> None:
    assert OFFICE.due(hue(2026, 2, 15), 6, "hours") == hue(2026, 2, 15, 6)


def test_office_hours_are_validated() -> None:
    assert office_hours_errors({"mon": ["11:00-08:00"]})
    assert office_hours_errors({"mon": ["07:00-12:00", "11:00-13:00"]})
    assert office_hours_errors({"mon": []}) == ["no open period in the week"]
    assert office_hours_errors({"mon": ["07:30-11:30", "13:30-17:00"]}) == []
