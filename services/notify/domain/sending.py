"""What the delivery worker hands a channel, and how a channel says it failed.

The senders themselves (SMTP, webhooks, the SMS gateway) are adapters in `channels.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from services.notify.domain.model import Channel


class DeliveryError(Exception):
    """The message did not go out; `permanent` means retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    """One message to one address. `address` is personal data: never log this object."""

    delivery_id: str
    channel: Channel
    address: str = field(repr=False)
    subject: str
    text: str
    html: str
    payload: dict[str, Any]  # webhook body
    unsubscribe_url: str | None = None


class Sender(Protocol):
    async def send(self, message: Message) -> None: ...

    async def aclose(self) -> None:
        """Gives back what the sender holds open (connections); it may be used again."""
        ...
