"""Streaming multipart/form-data reader: every cap is enforced while the body is read, so no part
is kept in memory beyond its limit (a 1 GB upload is refused after its first megabytes, and the
rest of the body is never read).

Generic: it knows files and fields, not photos or reports; each service maps `UploadRefused`
to its own errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

FIELD_MAX_BYTES = 64 * 1024
MAX_FIELDS = 50


class UploadRefused(ValueError):
    """`reason` is a bounded label: too_large (a file over its cap), too_many (files),
    field_too_long, too_many_fields (parts), no_boundary. `field` names the part if known."""

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field


@dataclass
class Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class UploadedFile(NamedTuple):
    filename: str
    data: bytes
    field: str = ""  # the form field (part name) it was sent under


@dataclass
class Form:
    fields: dict[str, str]
    files: list[UploadedFile]


class _Collector:
    def __init__(
        self, max_files: int, max_file_bytes: int, max_field_bytes: int, max_fields: int
    ) -> None:
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.max_field_bytes = max_field_bytes
        self.max_fields = max_fields
        self.parts: list[Part] = []
        self.current = Part()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.error: UploadRefused | None = None

    def on_part_begin(self) -> None:
        self.current = Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self.header_field).lower() == b"content-disposition":
            _, opts = parse_options_header(bytes(self.header_value))
            self.current.name = opts.get(b"name", b"").decode("utf-8", "replace")
            filename = opts.get(b"filename")
            self.current.filename = (
                filename.decode("utf-8", "replace") if filename is not None else None
            )
        self.header_field.clear()
        self.header_value.clear()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error:
            return
        part = self.current
        part.data += data[start:end]
        if part.filename is not None and len(part.data) > self.max_file_bytes:
            self.error = UploadRefused(
                "too_large", f"a file exceeds {self.max_file_bytes} bytes", part.name
            )
        elif part.filename is None and len(part.data) > self.max_field_bytes:
            self.error = UploadRefused(
                "field_too_long", f"form field {part.name!r} is too long", part.name
            )

    def on_part_end(self) -> None:
        if self.error:
            return
        self.parts.append(self.current)
        files = sum(1 for p in self.parts if p.filename is not None)
        if files > self.max_files:
            self.error = UploadRefused(
                "too_many", f"at most {self.max_files} files", self.current.name
            )
        elif len(self.parts) > self.max_fields:
            self.error = UploadRefused("too_many_fields", "too many form fields")


async def read_multipart(
    request: Request,
    *,
    max_files: int,
    max_file_bytes: int,
    max_field_bytes: int = FIELD_MAX_BYTES,
    max_fields: int = MAX_FIELDS,
) -> Form:
    """Reads `request.stream()` chunk by chunk; raises `UploadRefused` at the first cap crossed,
    without reading the rest of the body. Empty file parts (an unused file input) are dropped."""
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise UploadRefused("no_boundary", "multipart body without a boundary", "body")
    collector = _Collector(max_files, max_file_bytes, max_field_bytes, max_fields)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": collector.on_part_begin,
            "on_header_field": collector.on_header_field,
            "on_header_value": collector.on_header_value,
            "on_header_end": collector.on_header_end,
            "on_part_data": collector.on_part_data,
            "on_part_end": collector.on_part_end,
        },
    )
    async for chunk in request.stream():
        if chunk:
            parser.write(chunk)
        if collector.error:
            raise collector.error
    parser.finalize()
    if collector.error:
        raise collector.error
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    for part in collector.parts:
        if part.filename is not None:
            if part.data:
                files.append(UploadedFile(part.filename, bytes(part.data), part.name))
        else:
            fields[part.name] = part.data.decode("utf-8", "replace")
    return Form(fields, files)
