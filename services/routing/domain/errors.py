"""Routing's refusals, in domain terms (`services/routing/errors.py` gives each its HTTP status)."""

from __future__ import annotations

from shared.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
)


class NoSuchAssignment(NotFound):
    """Unknown, or not visible to the caller (another agency's): both answer the same."""

    def __init__(self) -> None:
        super().__init__("no such assignment")


class InvalidTransition(Conflict):
    """The workflow does not allow this action from the assignment's current state."""

    code = "invalid_transition"


class ChangedMeanwhile(Conflict):
    """The assignment changed since it was read (another replica or request won)."""

    def __init__(self, assignment_id: str) -> None:
        super().__init__("assignment changed meanwhile; retry")
        self.assignment_id = assignment_id


class UnknownAgency(InvalidInput):
    code = "unknown_agency"


class UnknownCategory(InvalidInput):
    """Not a category of the jurisdiction, or no longer active."""

    code = "unknown_category"


class NoSuchClosure(NotFound):
    def __init__(self) -> None:
        super().__init__("no closure on that day")


class UnknownReport(InvalidInput):
    code = "unknown_report"


class InvalidDuplicate(InvalidInput):
    code = "invalid_duplicate"


class InvalidJurisdiction(InvalidInput):
    """Every problem of a jurisdiction document, listed in `errors` (the body's `details`)."""

    code = "invalid_jurisdiction"

    def __init__(self, errors: list[str]) -> None:
        super().__init__("jurisdiction is invalid", details=errors)
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(self.errors)


class AreaRefused(InvalidInput):
    """The database refused an area's geometry (its 2dsphere index cannot hold it)."""

    def __init__(self, area_id: str, reason: str) -> None:
        super().__init__(f"area {area_id}: {reason}")
        self.area_id = area_id
        self.reason = reason


class AccountRefused(InvalidInput):
    code = "invalid_account"


class NoSuchAccount(NotFound):
    def __init__(self, username: str) -> None:
        super().__init__(f"no account {username!r}")


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("wrong username or password")


class LoginThrottled(RateLimited):
    """Too many failed logins for this account or from this client: wait (nothing is checked
    meanwhile, not even a right password)."""

    code = "too_many_failed_logins"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after_s} s", retry_after_s)


class LoginBusy(RateLimited):
    """Every password check slot is taken and the queue is full."""

    code = "login_busy"

    def __init__(self) -> None:
        super().__init__("too many logins at once; try again shortly", 1)


class LoginsNotOpen(Unavailable):
    """Routing is starting: its logins (demo, bootstrap admin) are not made yet."""

    code = "starting"

    def __init__(self) -> None:
        super().__init__("logins open once routing has started", retry_after_s=1)


class NoSuchPhoto(NotFound):
    def __init__(self) -> None:
        super().__init__("no such photo")


class PhotoTooLarge(TooLarge):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"a photo is larger than {max_bytes} bytes")


class TooManyPhotos(InvalidInput):
    code = "too_many_photos"

    def __init__(self, max_count: int) -> None:
        super().__init__(f"at most {max_count} photos")


class UnsupportedPhoto(InvalidInput):
    """Not a JPEG, PNG or WebP by its bytes."""

    code = "unsupported_media_type"


class InvalidImage(InvalidInput):
    """Undecodable, or larger than the pixel cap (decompression bomb)."""

    code = "invalid_image"
