"""The due time as the public view writes it: the city's clock, the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.intake.domain.duetime import city_zone, due_text
from services.intake.settings import IntakeSettings

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
WED_17H_HUE = datetime(2026, 2, 25, 10, 0, tzinfo=UTC)


def test_vietnamese_reads_hour_weekday_and_day_month_year() -> None:
    assert due_text(WED_17H_HUE, HUE, "vi") == "17:00 thứ Tư, 25/02/2026"


def test_english_reads_hour_weekday_and_short_month() -> None:
    assert due_text(WED_17H_HUE, HUE, "en") == "17:00 Wednesday, 25 Feb 2026"


def test_the_city_clock_can_move_the_day() -> None:
    late_utc = datetime(2026, 2, 28, 20, 5, tzinfo=UTC)  # 03:05 on Sunday in Huế
    assert due_text(late_utc, HUE, "vi") == "03:05 Chủ nhật, 01/03/2026"


def test_every_weekday_has_its_vietnamese_name() -> None:
    monday = datetime(2026, 2, 23, 2, 0, tzinfo=UTC)
    names = [
        str(due_text(monday + timedelta(days=d), HUE, "vi"))[6:].split(",")[0] for d in range(7)
    ]
    assert names == ["thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"]


def test_an_instant_in_another_offset_is_the_same_city_time() -> None:
    same = WED_17H_HUE.astimezone(timezone(timedelta(hours=-5)))
    assert due_text(same, HUE, "en") == due_text(WED_17H_HUE, HUE, "en")


def test_a_naive_instant_is_read_as_utc() -> None:
    assert str(due_text(WED_17H_HUE.replace(tzinfo=None), HUE, "vi")).startswith("17:00")


def test_no_due_time_has_no_text() -> None:
    assert due_text(None, HUE, "en") is None


def test_an_unknown_language_falls_back_to_vietnamese() -> None:
    assert due_text(WED_17H_HUE, HUE, "fr") == "17:00 thứ Tư, 25/02/2026"


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        city_zone("Asia/Hue")


def test_the_setting_defaults_to_ho_chi_minh_and_refuses_unknown_zones() -> None:
    assert IntakeSettings().city_time_zone == "Asia/Ho_Chi_Minh"
    with pytest.raises(ValueError, match="unknown time zone"):
        IntakeSettings(city_time_zone="Mars/Olympus")
