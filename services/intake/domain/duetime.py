"""The due time as a resident reads it: the instant in the city's time zone, in the view's
language ("17:00 thứ Tư, 25/02/2026", "17:00 Wednesday, 25 Feb 2026").

Written out here rather than with `strftime`/`locale`: those follow the process's locale, which
a container rarely has (and never Vietnamese), and a server must answer the same whatever it runs on.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CITY_ZONE = "Asia/Ho_Chi_Minh"

VI_WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def city_zone(name: str) -> ZoneInfo:
    """The IANA zone `name` (e.g. "Asia/Ho_Chi_Minh"); ValueError when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {name!r}") from e


def due_text(instant: datetime | None, zone: tzinfo, lang: str) -> str | None:
    """`instant` (aware; naive is read as UTC, as stored) on the city's clock, in `lang` ("en",
    else Vietnamese); None without an instant."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=ZoneInfo("UTC"))
    local = instant.astimezone(zone)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if lang == "en":
        month = EN_MONTHS[local.month - 1]
        return f"{clock} {EN_WEEKDAYS[local.weekday()]}, {local.day} {month} {local.year}"
    return f"{clock} {VI_WEEKDAYS[local.weekday()]}, {local.day:02d}/{local.month:02d}/{local.year}"
