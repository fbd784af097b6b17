"""Intake's copy of routing's category catalogue (the whole `CatalogV1`): lookups, names by
language, attribute checks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.catalog import CatalogV1, CategoryAttributeV1, CategoryV1

from .errors import InvalidInput, UnknownCategory

ATTRIBUTE_TEXT_MAX = 1000


def localized(text: Mapping[str, str], lang: str) -> str:
    return text.get(lang) or text.get("vi") or text.get("en") or next(iter(text.values()), "")


class Catalog:
    def __init__(self, data: CatalogV1) -> None:
        self.data = data
        self._by_code = {c.code: c for c in data.categories}

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
            raise UnknownCategory(f"unknown category {code!r}", field="category")
        return c

    def defined_attributes(self, code: str, given: Mapping[str, Any]) -> dict[str, Any]:
        """Only the answers the category defines (all of them if the category is unknown: then
        `require` refuses the draft anyway)."""
        category = self.category(code)
        if category is None:
            return dict(given)
        known = {a.code for a in category.attributes}
        return {k: v for k, v in given.items() if k in known}


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
