"""A delivery's states (pending -> sent, or failed -> ... -> dead; skipped), the retry schedule,
masking, webhook signatures and unsubscribe tokens. Pure functions."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from services.notify.domain.model import Channel, DeliveryStatus, Outcome


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_s: float = 30.0
    factor: float = 2.0
    max_delay_s: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        """Wait after the `attempts`-th failed attempt: base, base*factor, ... capped."""
        seconds = self.base_s * self.factor ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.max_delay_s))

    def after_failure(
        self, attempts: int, now: datetime, *, permanent: bool = False
    ) -> tuple[DeliveryStatus, datetime | None]:
        """State and next attempt time after `attempts` attempts, the last of which failed."""
        if permanent or attempts >= self.max_attempts:
            return DeliveryStatus.DEAD, None
        return DeliveryStatus.FAILED, now + self.delay(attempts)

    def failed(
        self, attempts: int, error: str, now: datetime, *, permanent: bool = False
    ) -> Outcome:
        """The outcome of the `attempts`-th attempt, which failed with `error`."""
        status, next_at = self.after_failure(attempts, now, permanent=permanent)
        return Outcome(status, attempts, error, next_attempt_at=next_at)


def sent(attempts: int, now: datetime) -> Outcome:
    """The outcome of the `attempts`-th attempt, which went out."""
    return Outcome(DeliveryStatus.SENT, attempts, None, sent_at=now)


def skipped(attempts: int, reason: str) -> Outcome:
    """Not sent, and never will be (`attempts` so far)."""
    return Outcome(DeliveryStatus.SKIPPED, attempts, reason)


def mask(channel: Channel, address: str) -> str:
    """A recipient shown to operators: enough to recognise, never the whole address."""
    if channel is Channel.EMAIL:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    if channel is Channel.SMS:
        digits = address.strip()
        return f"{digits[:3]}***{digits[-2:]}" if len(digits) > 6 else "***"
    if channel is Channel.WEBHOOK:
        parts = urlsplit(address)
        return f"{parts.scheme}://{parts.netloc}/***" if parts.netloc else "***"
    return address


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=<hex>` where hex = HMAC-SHA256(secret, f"{timestamp}.{body}")."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify_webhook(
    secret: str, timestamp: str, body: bytes, signature: str, now: int, tolerance_s: int = 300
) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse old timestamps."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign_webhook(secret, ts, body), signature)


def normalise_address(channel: Channel, address: str) -> str:
    """One spelling per address: emails lower-cased; phone numbers without separators."""
    value = address.strip().lower()
    if channel is Channel.SMS:
        value = re.sub(r"[\s\-.()/]", "", value)
    return value


def fit_sms(body: str, footer: str, max_chars: int) -> str:
    """The SMS text within `max_chars` characters: the body, cut at a word boundary with `…`
    when too long, then the opt-out line `footer`, which is never cut (an opt-out line longer
    than the cap alone is sent alone)."""
    tail = f"\n{footer}" if footer else ""
    room = max_chars - len(tail)
    if len(body) <= room:
        return body + tail
    if room < 2:
        return footer if footer else body[:max_chars]
    cut = body[: room - 1]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    if boundary >= room // 2:  # a word boundary, unless it throws away most of the text
        cut = cut[:boundary]
    return cut.rstrip(" \n,.;:-") + "…" + tail


_SMS_PREFIX = "sms-"


class UnsubscribeTokens:
    """Tokens for the unsubscribe link: `<address key>.<signature>` for an email address,
    `sms-<address key>.<signature>` for a phone number; no address inside.

    The address key is an HMAC of the channel and the normalised address, so preferences are
    stored without the address itself and a token cannot be forged for another address.
    """

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def _mac(self, message: str) -> str:
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def address_key(self, channel: Channel, address: str) -> str:
        return self._mac(f"address:{channel.value}:{normalise_address(channel, address)}")[:40]

    def issue(self, channel: Channel, address: str) -> str:
        key = self.address_key(channel, address)
        head = _SMS_PREFIX + key if channel is Channel.SMS else key
        return f"{head}.{self._mac('unsubscribe:' + head)[:32]}"

    def verify_token(self, token: str) -> tuple[Channel, str] | None:
        """The channel and address key the token unsubscribes, or None if it is not ours."""
        head, _, sig = token.partition(".")
        if not head or not hmac.compare_digest(self._mac("unsubscribe:" + head)[:32], sig):
            return None
        if head.startswith(_SMS_PREFIX):
            return Channel.SMS, head.removeprefix(_SMS_PREFIX)
        return Channel.EMAIL, head
