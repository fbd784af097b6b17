"""Open311's error answer: every refusal of a `/open311/v2` resource as the spec's error list
`[{"code", "description"}]`, in the format the path asks for, with the status of intake's one
error table (`services/intake/errors.py`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from services.intake.errors import ERRORS
from shared.errors import DomainError, RateLimited, status_of

from . import serializers as s

FORMATS = ("json", "xml")
# GeoReport v2 answers 400 to any request it cannot take: no 422 there.
OPEN311_STATUS = {422: 400}


def error_response(fmt: str, exc: DomainError) -> Response:
    status = status_of(exc, ERRORS)
    response = s.errors(fmt, OPEN311_STATUS.get(status, status), exc.message)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


class Open311Route(APIRoute):
    """A route whose refusals (from its dependencies too) are rendered the Open311 way."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            fmt = str(request.path_params.get("fmt", "json"))
            if fmt not in FORMATS:
                return s.errors("json", 404, "unknown format: use .json or .xml")
            try:
                return await handler(request)
            except DomainError as exc:
                return error_response(fmt, exc)

        return answer
