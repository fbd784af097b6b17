"""Intake's multipart reading: the generic streaming reader of `shared.uploads` (every cap enforced
while the body is read), with its refusals mapped to intake's errors."""

from __future__ import annotations

from starlette.requests import Request

from services.intake.domain.errors import InvalidInput, PhotoRejected
from shared.uploads import FIELD_MAX_BYTES, MAX_FIELDS, Form, Part, UploadRefused
from shared.uploads import read_multipart as _read_multipart

__all__ = ["FIELD_MAX_BYTES", "MAX_FIELDS", "Form", "Part", "read_multipart"]


async def read_multipart(request: Request, *, max_files: int, max_file_bytes: int) -> Form:
    try:
        return await _read_multipart(request, max_files=max_files, max_file_bytes=max_file_bytes)
    except UploadRefused as exc:
        if exc.reason == "too_large":
            raise PhotoRejected("too_large", f"a photo exceeds {max_file_bytes} bytes") from exc
        if exc.reason == "too_many":
            raise PhotoRejected("too_many", f"at most {max_files} photos") from exc
        raise InvalidInput(exc.message, field=exc.field) from exc
