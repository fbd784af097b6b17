"""Decoding Open311 input: the form of `POST requests`, the filters of `GET requests` and the
window of `GET servicerequestupdates`. Refusals are `InvalidInput` (the spec's 400)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from starlette.datastructures import FormData

from services.intake.domain.errors import InvalidInput
from services.intake.domain.filters import RequestFilter
from services.intake.domain.report import ADDRESS_MAX, DESCRIPTION_MAX, Contact, ReportDraft
from services.intake.domain.text import control_character
from shared.events import utcnow
from shared.i18n import language_or_default

DEFAULT_WINDOW = timedelta(days=90)  # the spec's default when no dates are given
ATTRIBUTE_RE = re.compile(r"^attribute\[([^\]]{1,100})\](\[\])?$")
URL_RE = re.compile(r"^https?://[^\s]{1,490}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$")


def draft(form: FormData) -> ReportDraft:
    for name, value in form.multi_items():
        _clean(name, str(value))
    code = _text(form, "service_code", 100)
    if not code:
        raise InvalidInput("service_code is required")
    lat, lon = _point(form)
    description = _text(form, "description", DESCRIPTION_MAX)
    if not description:
        raise InvalidInput("description is required")
    media_url, contact = _media_url(form), _contact(form)
    locale = str(form.get("locale") or "")
    return ReportDraft(
        category=code,
        lat=lat,
        lon=lon,
        description=description,
        address=_text(form, "address_string", ADDRESS_MAX),
        language=language_or_default(locale) if locale else "vi",
        contact=contact,
        attributes=_attributes(form),
        media_url=media_url,
    )


def request_filter(q: Any) -> RequestFilter:
    """`GET requests` filters: ids alone, or codes, dates (the last 90 days when none) and
    status."""
    ids = _list(q.get("service_request_id"))
    if ids:  # the spec: with ids, the other filters are ignored
        return RequestFilter(ids=tuple(ids))
    start, end = date(q.get("start_date"), "start_date"), date(q.get("end_date"), "end_date")
    if start is None and end is None:
        start = utcnow() - DEFAULT_WINDOW
    statuses = set(_list(q.get("status")))
    if not statuses <= {"open", "closed"}:
        raise InvalidInput("status must be open and/or closed")
    is_open = None if len(statuses) != 1 else statuses == {"open"}
    return RequestFilter(
        codes=tuple(_list(q.get("service_code"))), start=start, end=end, open=is_open
    )


def window(start_s: str | None, end_s: str | None) -> tuple[datetime, datetime]:
    """Both dates, one of them, or neither (then the last 90 days); never longer than that."""
    start, end = date(start_s, "start_date"), date(end_s, "end_date")
    if end is None:
        end = utcnow() if start is None else min(utcnow(), start + DEFAULT_WINDOW)
    if start is None:
        start = end - DEFAULT_WINDOW
    if start > end:
        raise InvalidInput("start_date must not be after end_date")
    if end - start > DEFAULT_WINDOW:
        raise InvalidInput("start_date and end_date may be at most 90 days apart")
    return start, end


def integer(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be an integer") from exc
    if not low <= number <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return number


def date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{name} must be an ISO 8601 date-time with zone") from exc
    if parsed.tzinfo is None:
        raise InvalidInput(f"{name} must include a time zone")
    return parsed


def _point(form: FormData) -> tuple[float, float]:
    lat_s, lon_s = form.get("lat"), form.get("long")
    if not lat_s or not lon_s:
        raise InvalidInput(
            "lat and long are required: this jurisdiction has no geocoder, so address_string "
            "alone cannot be located (it is kept as the address when given with lat/long)"
        )
    try:
        lat, lon = float(str(lat_s)), float(str(lon_s))
    except ValueError as exc:
        raise InvalidInput("lat and long must be numbers") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("lat/long out of range")
    return lat, lon


def _media_url(form: FormData) -> str | None:
    """Several `media_url` values come from clients sending every photo (FixMyStreet's
    multi_photos); the first one is kept."""
    media_urls = [str(v).strip() for v in form.getlist("media_url") if str(v).strip()]
    media_url = media_urls[0] if media_urls else None
    if media_url and len(media_url) > 500:
        raise InvalidInput("media_url is longer than 500 characters")
    if media_url and not URL_RE.match(media_url):
        raise InvalidInput("media_url must be an http(s) URL")
    return media_url


def _contact(form: FormData) -> Contact | None:
    name = " ".join(x for x in (_text(form, "first_name", 100), _text(form, "last_name", 100)) if x)
    email, phone = _text(form, "email", 254), _text(form, "phone", 32)
    if email and not EMAIL_RE.match(email):
        raise InvalidInput("email is not valid")
    return Contact(name or None, email, phone) if (name or email or phone) else None


def _attributes(form: FormData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in form:
        m = ATTRIBUTE_RE.match(key)
        if not m:
            continue
        values = [str(v) for v in form.getlist(key) if str(v) != ""]
        if values:  # an empty answer is no answer (clients send blank optional fields)
            out[m.group(1)] = values if m.group(2) else values[-1]
    return out


def _text(form: FormData, name: str, cap: int) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > cap:
        raise InvalidInput(f"{name} is longer than {cap} characters")
    return text or None


def _clean(name: str, value: str) -> None:
    """Every field of a POST (name and value), before anything reads it: no control
    characters (they would make the XML of every list holding them ill-formed)."""
    bad = control_character(name) or control_character(value)
    if bad:
        raise InvalidInput(f"{name[:100]!r}: control characters are not allowed ({bad})")


def _list(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").split(",") if x.strip()]
