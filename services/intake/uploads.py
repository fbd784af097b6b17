"""Streaming multipart reader: every cap is enforced while the body is read, before any part is
kept whole in memory beyond its limit (a 1 GB upload is refused after its first megabytes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from services.intake.domain.errors import InvalidInput, PhotoRejected

FIELD_MAX_BYTES = 64 * 1024
MAX_FIELDS = 50


@dataclass
class Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


@dataclass
class Form:
    fields: dict[str, str]
    files: list[tuple[str, bytes]]


class _Collector:
    def __init__(self, max_files: int, max_file_bytes: int) -> None:
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.parts: list[Part] = []
        self.current = Part()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.error: Exception | None = None

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
            self.error = PhotoRejected("too_large", f"a photo exceeds {self.max_file_bytes} bytes")
        elif part.filename is None and len(part.data) > FIELD_MAX_BYTES:
            self.error = InvalidInput(f"form field {part.name!r} is too long", field=part.name)

    def on_part_end(self) -> None:
        if self.error:
            return
        self.parts.append(self.current)
        files = sum(1 for p in self.parts if p.filename is not None)
        if files > self.max_files:
            self.error = PhotoRejected("too_many", f"at most {self.max_files} photos")
        elif len(self.parts) > MAX_FIELDS:
            self.error = InvalidInput("too many form fields")


async def read_multipart(request: Request, *, max_files: int, max_file_bytes: int) -> Form:
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidInput("multipart body without a boundary", field="body")
    collector = _Collector(max_files, max_file_bytes)
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
    files: list[tuple[str, bytes]] = []
    for part in collector.parts:
        if part.filename is not None:
            if part.data:
                files.append((part.filename, bytes(part.data)))
        else:
            fields[part.name] = part.data.decode("utf-8", "replace")
    return Form(fields, files)
