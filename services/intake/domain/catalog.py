"""Intake's copy of routing's category catalogue: lookups, names by language, attribute checks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from shared.events import CatalogV1, CategoryAttributeV1, CategoryV1

from .errors import InvalidInput

Lang = Literal["vi", "en"]
ATTRIBUTE_TEXT_MAX = 1000


def pick_language(accept_language: str | None, default: Lang = "vi") -> Lang:
    """The first of vi/en in an `Accept-Language` header, by quality; `default` otherwise."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip().lower().split("-")[0]))
    for _, _, lang in sorted(ranked):
        if lang == "vi":
            return "vi"
        if lang == "en":
            return "en"
    return default


def localized(text: Mapping[str, str], lang: str) -> str:
    return text.get(lang) or text.get("vi") or text.get("en") or next(iter(text.values()), "")


class Catalog:
    def __init__(self, data: CatalogV1) -> None:
        self.data = data
        self._by_code = {c.code: c for c in data.categories}
        self._agencies = {a.id: a for a in data.agencies}

    @property
    def version(self) -> int:
        return self.data.version

    def categories(self) -> list[CategoryV1]:
        return [c for c in self.data.categories if c.active]

    def category(self, code: str) -> CategoryV1 | None:
        c = self._by_code.get(code)
        return c if c is not None and c.active else None

    def require(self, code: str) -> CategoryV1:
        c = self.category(code)
        if c is None:
            raise InvalidInput(
                f"unknown category {code!r}", field="category", code="unknown_category"
            )
        return c

    def agency_name(self, agency_id: str, lang: str = "vi") -> str | None:
        a = self._agencies.get(agency_id)
        return localized(a.name, lang) if a else None


def validate_attributes(category: CategoryV1, given: Mapping[str, Any]) -> dict[str, Any]:
    """Checks a resident's attribute answers against the category definition; returns them clean."""
    defs = {a.code: a for a in category.attributes}
    unknown = sorted(set(given) - set(defs))
    if unknown:
        raise InvalidInput(
            f"unknown attribute(s) for {category.code}: {', '.join(unknown)}", field="attributes"
        )
    clean: dict[str, Any] = {}
    for code, attr in defs.items():
        value = given.get(code)
        if value is None or value == "" or value == []:
            if attr.required and attr.variable:
                raise InvalidInput(f"attribute {code!r} is required", field=f"attributes.{code}")
            continue
        clean[code] = _check_value(attr, value)
    return clean


def _check_value(attr: CategoryAttributeV1, value: Any) -> Any:
    field = f"attributes.{attr.code}"
    keys = {str(v.get("key")) for v in attr.values}
    if attr.datatype == "multivaluelist":
        items = value if isinstance(value, list) else [value]
        items = [str(v) for v in items]
        bad = [v for v in items if v not in keys]
        if bad:
            raise InvalidInput(f"{attr.code}: not among the allowed values: {bad}", field=field)
        return items
    if isinstance(value, list | dict):
        raise InvalidInput(f"{attr.code}: a single value is expected", field=field)
    if attr.datatype == "singlevaluelist":
        if str(value) not in keys:
            raise InvalidInput(f"{attr.code}: {value!r} is not an allowed value", field=field)
        return str(value)
    if attr.datatype == "number":
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{attr.code}: a number is expected", field=field) from exc
        return int(number) if number.is_integer() else number
    if attr.datatype == "datetime":
        try:
            return datetime.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise InvalidInput(
                f"{attr.code}: an ISO 8601 date-time is expected", field=field
            ) from exc
    text = str(value)
    if len(text) > ATTRIBUTE_TEXT_MAX:
        raise InvalidInput(f"{attr.code}: at most {ATTRIBUTE_TEXT_MAX} characters", field=field)
    return text
