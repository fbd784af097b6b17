"""Notify's refusals (the HTTP edge maps them in `services/notify/errors.py`)."""

from __future__ import annotations

from shared.errors import InvalidInput, NotFound, RateLimited


class InvalidUnsubscribeToken(InvalidInput):
    code = "invalid_token"

    def __init__(self) -> None:
        super().__init__("this unsubscribe link is not valid")


class ReportNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such report")


class TooManyStreams(RateLimited):
    """This process already holds its maximum of open status streams."""

    code = "too_many_streams"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many open status streams; retry later", retry_after_s)


class TooManyClientStreams(RateLimited):
    """This client already holds its maximum of open status streams in this process."""

    code = "too_many_streams_per_client"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many open status streams from this client", retry_after_s)
