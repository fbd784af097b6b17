"""The working-time clock: when a deadline counted in working hours or working days falls due,
and how much working time lies between two instants.

An agency works its office hours (per weekday, local time, possibly with a lunch break) in its
IANA time zone, except on Vietnam's public holidays (the `holidays` library: lunar Tết and the
Hùng Kings' day included, cached per year) and on the admin's closure days.

- `hours`: calendar hours, as before (the clock is not consulted).
- `working_hours`: N hours of open office time from the start; a start outside office hours
  counts from the next opening. The due instant is inside (or at the end of) an open period, so
  a report is never overdue while its agency is closed before its due time.
- `working_days`: due at the close of the Nth working day after the day of receipt (the day
  of receipt never counts, whatever the hour; a report received on a holiday or at the weekend
  is due at the close of the Nth working day after it). 1 working day = the next working day.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from holidays.countries.vietnam import Vietnam

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Unit = Literal["hours", "working_hours", "working_days"]
Period = tuple[time, time]

DEFAULT_TIME_ZONE = "Asia/Ho_Chi_Minh"
# Vietnamese public offices: Mon-Fri, 07:30-11:30 and 13:30-17:00.
DEFAULT_OFFICE_HOURS: dict[Weekday, list[str]] = {
    d: ["07:30-11:30", "13:30-17:00"] for d in WEEKDAYS[:5]
}
# How far the clock looks for open time (a calendar closed this long: calendar time instead).
HORIZON_DAYS = 3 * 366


@functools.lru_cache(maxsize=32)
def vietnam_holidays(year: int) -> frozenset[date]:
    """Vietnam's public holidays of `year` (lunar ones included), computed once per year."""
    return frozenset(Vietnam(years=year).keys())  # type: ignore[no-untyped-call]


def parse_period(text: str) -> Period:
    """`"07:30-11:30"` -> (07:30, 11:30); ValueError unless HH:MM-HH:MM with start < end."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM")
    s, e = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    if s >= e:
        raise ValueError(f"{text!r}: the start must be before the end")
    return s, e


def office_hours_errors(week: Mapping[Weekday, Sequence[str]]) -> list[str]:
    """Every problem of an office-hours table (empty when valid)."""
    errors: list[str] = []
    for day, periods in week.items():
        parsed: list[Period] = []
        for text in periods:
            try:
                parsed.append(parse_period(text))
            except ValueError as exc:
                errors.append(f"{day}: {exc}")
        parsed.sort()
        if any(a[1] > b[0] for a, b in itertools.pairwise(parsed)):
            errors.append(f"{day}: periods overlap")
    if not errors and not any(week.values()):
        errors.append("no open period in the week")
    return errors


def time_zone_error(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}"
    return None


@dataclass(frozen=True)
class WorkCalendar:
    """An agency's working time: periods per weekday (Monday first), zone, days off."""

    zone: ZoneInfo
    week: tuple[tuple[Period, ...], ...]
    closed_days: frozenset[date] = frozenset()
    public_holidays: bool = True

    @classmethod
    def of(
        cls,
        week: Mapping[Weekday, Sequence[str]],
        zone: str = DEFAULT_TIME_ZONE,
        closed_days: Iterable[date] = (),
        public_holidays: bool = True,
    ) -> WorkCalendar:
        periods = tuple(tuple(sorted(parse_period(p) for p in week.get(d, ()))) for d in WEEKDAYS)
        return cls(ZoneInfo(zone), periods, frozenset(closed_days), public_holidays)

    def is_working_day(self, d: date) -> bool:
        if not self.week[d.weekday()] or d in self.closed_days:
            return False
        return not (self.public_holidays and d in vietnam_holidays(d.year))

    def periods(self, d: date) -> list[tuple[datetime, datetime]]:
        """The open periods of local day `d`, as UTC instants (none on a day off)."""
        if not self.is_working_day(d):
            return []
        return [(self._at(d, s), self._at(d, e)) for s, e in self.week[d.weekday()]]

    def _at(self, d: date, t: time) -> datetime:
        return datetime.combine(d, t, tzinfo=self.zone).astimezone(UTC)

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def add_working_hours(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when `amount` of open office time has passed since `start`."""
        left = amount
        day = self.local_day(start)
        for _ in range(HORIZON_DAYS):
            for s, e in self.periods(day):
                s = max(s, start)
                if e <= s:
                    continue
                if e - s >= left:
                    return s + left
                left -= e - s
            day += timedelta(days=1)
        return start + amount  # no open time in sight: calendar time rather than never

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The close of the `n`th working day after the local day of `start`."""
        day = self.local_day(start)
        for _ in range(HORIZON_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
                if n <= 0:
                    return self.periods(day)[-1][1]
        return start + timedelta(days=n)

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """Open office time between two instants (zero if `end` is not after `start`)."""
        total = timedelta()
        day = self.local_day(start)
        while start < end and day <= self.local_day(end):
            for s, e in self.periods(day):
                lo, hi = max(s, start), min(e, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def due(self, start: datetime, amount: int, unit: Unit) -> datetime:
        if unit == "working_hours":
            return self.add_working_hours(start, timedelta(hours=amount))
        if unit == "working_days":
            return self.add_working_days(start, amount)
        return start + timedelta(hours=amount)
