"""Reading a create body: JSON, or multipart (a `report` JSON part or flat fields, and photos)
read as it streams with every cap enforced (`shared.uploads`); and its OpenAPI description."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from python_multipart.exceptions import MultipartParseError

from services.intake.domain.errors import (
    InvalidInput,
    MalformedBody,
    PhotoRejected,
    TooLarge,
    UnsupportedContentType,
    photo_rejected,
)
from services.intake.schemas import ReportCreate
from services.intake.usecases.create import FileReport
from shared.uploads import UploadRefused, read_multipart

JSON_MAX_BYTES = 256 * 1024


async def read_create(
    request: Request, file_report: FileReport
) -> tuple[ReportCreate, list[bytes]]:
    """The validated body and the raw photos (sanitised later, by the use case)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        try:
            fields, photos = await _multipart(request, file_report)
        except PhotoRejected as exc:
            file_report.photo_refused(exc)
            raise
        data: Any = _json(fields["report"]) if "report" in fields else _flat_form(fields)
        return _validate(data), photos
    if ctype in ("application/json", ""):
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > JSON_MAX_BYTES:
                raise TooLarge(f"JSON body over {JSON_MAX_BYTES} bytes")
        return _validate(_json(bytes(raw).decode("utf-8", "replace"))), []
    raise UnsupportedContentType("use application/json or multipart/form-data")


async def _multipart(
    request: Request, file_report: FileReport
) -> tuple[dict[str, str], list[bytes]]:
    rules = file_report.photo_rules
    try:
        form = await read_multipart(
            request, max_files=rules.max_count, max_file_bytes=rules.max_bytes
        )
    except MultipartParseError as exc:
        raise MalformedBody(f"the multipart body cannot be parsed: {exc}") from exc
    except UploadRefused as exc:
        if exc.reason == "no_boundary":
            raise MalformedBody(exc.message) from exc
        if exc.reason == "too_large":
            raise photo_rejected("too_large", f"a photo exceeds {rules.max_bytes} bytes") from exc
        if exc.reason == "too_many":
            raise photo_rejected("too_many", f"at most {rules.max_count} photos") from exc
        raise InvalidInput(exc.message, field=exc.field) from exc
    return form.fields, [f[1] for f in form.files]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput("body is not valid JSON", field="body") from exc


def _flat_form(fields: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        k: v for k, v in fields.items() if not k.startswith(("contact_", "attributes"))
    }
    contact = {k[8:]: v for k, v in fields.items() if k.startswith("contact_") and v}
    if contact:
        data["contact"] = contact
    if fields.get("attributes"):
        data["attributes"] = _json(fields["attributes"])
    return data


def _validate(data: Any) -> ReportCreate:
    try:
        return ReportCreate.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` inlined (OpenAPI resolves refs from its root)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    inlined: dict[str, Any] = resolve(schema)
    return inlined


CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline_schema(ReportCreate)},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "report": {"type": "string", "description": "ReportCreate as JSON"},
                        "photos": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "maxItems": 5,
                        },
                    },
                }
            },
        },
    }
}
