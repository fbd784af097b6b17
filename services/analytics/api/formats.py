"""JSON or CSV: the one place the statistics tables pick their output format."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

Format = Literal["json", "csv"]


def output_format(
    request: Request,
    format: Annotated[Format, Query(description="json (default) or csv")] = "json",
) -> Format:
    """`/<table>.csv` is always CSV; `/<table>` follows `?format=`."""
    return "csv" if request.url.path.endswith(".csv") else format


FormatDep = Annotated[Format, Depends(output_format)]

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value safe to open in a spreadsheet: missing is empty; text that a spreadsheet would
    take for a formula gets a leading apostrophe (shown as text, the apostrophe hidden). Numbers
    are written as they are (a negative number is not a formula)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row; missing values are empty cells; every text cell is escaped
    against formula injection (`cell`), the header included."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n"
    )
    writer.writerow({c: cell(c) for c in columns})
    for row in rows:
        writer.writerow({c: cell(row.get(c)) for c in columns})
    return out.getvalue()


def _mapping(row: Any) -> Mapping[str, Any]:
    if isinstance(row, Mapping):
        return row
    if is_dataclass(row) and not isinstance(row, type):
        return asdict(row)
    raise TypeError(f"not a table row: {row!r}")


def table(
    fmt: Format, body: BaseModel, rows: Sequence[Any], columns: Sequence[str], name: str
) -> BaseModel | Response:
    """`body` as JSON, or `rows` as the CSV attachment `<name>.csv`."""
    if fmt == "json":
        return body
    return Response(
        to_csv([_mapping(r) for r in rows], columns),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def metric_rows(body: BaseModel, groups: Sequence[str]) -> list[dict[str, Any]]:
    """A flat `metric, value` table: every scalar field, then `<group>.<key>` of each group."""
    fields = body.model_dump()
    rows = [{"metric": k, "value": v} for k, v in fields.items() if not isinstance(v, dict)]
    for group in groups:
        rows += [{"metric": f"{group}.{k}", "value": v} for k, v in fields[group].items()]
    return rows
