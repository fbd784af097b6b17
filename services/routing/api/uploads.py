"""The resolve body: JSON `{"note"}`, or multipart `note` + `photos` capped while it streams."""

from fastapi import Request
from pydantic import ValidationError
from python_multipart.exceptions import MultipartParseError

from services.routing.api.deps import UploadLimits
from services.routing.api.schemas import ResolveIn
from services.routing.domain.errors import PhotoTooLarge, TooManyPhotos
from shared.errors import InvalidInput, TooLarge
from shared.uploads import UploadRefused, read_multipart

NOTE_MAX_BYTES = 16 * 1024  # 4000 characters of UTF-8
NOTE_MAX_CHARS = 4000
JSON_MAX_BYTES = 64 * 1024  # a JSON resolve is only its note (escaped, at worst 6 bytes a char)

OPENAPI_BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": ResolveIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["note"],
                    "properties": {
                        "note": {"type": "string"},
                        "photos": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                    },
                }
            },
        },
        "required": True,
    }
}


async def read_resolution(request: Request, limits: UploadLimits) -> tuple[str, list[bytes]]:
    """The note and the raw photos (sanitised later, by the use case)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        try:
            return ResolveIn.model_validate_json(await _json_body(request)).note, []
        except ValidationError as exc:
            raise InvalidInput("request is invalid") from exc
    return await _read_form(request, limits)


async def _json_body(request: Request) -> bytes:
    """The route's body cap is sized for photos; a JSON body stops at `JSON_MAX_BYTES`, read
    no further."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > JSON_MAX_BYTES:
            raise TooLarge(f"a JSON resolve body is at most {JSON_MAX_BYTES} bytes")
    return bytes(body)


async def _read_form(request: Request, limits: UploadLimits) -> tuple[str, list[bytes]]:
    """Caps are enforced while the body streams in: an oversized photo is refused (413)
    after its first `max_bytes`, without the rest of the body being read."""
    try:
        form = await read_multipart(
            request,
            max_files=limits.max_count,
            max_file_bytes=limits.max_bytes,
            max_field_bytes=NOTE_MAX_BYTES,
            max_fields=limits.max_count + 10,
        )
    except UploadRefused as exc:
        if exc.reason == "too_large":
            raise PhotoTooLarge(limits.max_bytes) from exc
        if exc.reason == "too_many":
            raise TooManyPhotos(limits.max_count) from exc
        raise InvalidInput(exc.message) from exc
    except MultipartParseError as exc:
        raise InvalidInput("malformed multipart body") from exc
    note = form.fields.get("note")
    if note is None or not note.strip() or len(note) > NOTE_MAX_CHARS:
        raise InvalidInput("note is required (1-4000 characters)")
    if "photos" in form.fields:
        raise InvalidInput("photos must be files")
    if any(f.field != "photos" for f in form.files):
        raise InvalidInput("files are accepted only as `photos`")
    return note, [f.data for f in form.files]
