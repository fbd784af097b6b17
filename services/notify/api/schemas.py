"""Public response models (nothing here can carry an address: only the masked recipient)."""

from datetime import datetime

from pydantic import BaseModel, Field

from services.notify.domain.model import (
    RETRYABLE,
    Channel,
    Delivery,
    DeliveryStatus,
    RecipientKind,
)
from services.notify.usecases.operators import ChannelState, DeliveryPage


class NotificationOut(BaseModel):
    """One delivery as operators see it: the recipient is masked, never the whole address."""

    id: str
    event_id: str
    event_type: str
    report_id: str
    recipient_kind: RecipientKind
    recipient_id: str = Field(description="`resident`, or the agency id")
    recipient: str = Field(description="Masked address, e.g. `n***@example.org`")
    channel: Channel
    language: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime
    sent_at: datetime | None = None

    @classmethod
    def of(cls, d: Delivery) -> "NotificationOut":
        return cls(
            id=d.id,
            event_id=d.news.event_id,
            event_type=d.news.event_type,
            report_id=d.news.report_id,
            recipient_kind=d.recipient_kind,
            recipient_id=d.recipient_id,
            recipient=d.recipient,
            channel=d.channel,
            language=d.language,
            status=d.status,
            attempts=d.attempts,
            last_error=d.last_error,
            next_attempt_at=d.next_attempt_at if d.status in RETRYABLE else None,
            created_at=d.created_at,
            sent_at=d.sent_at,
        )


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_offset: int | None = Field(default=None, description="Pass as `offset` for more")

    @classmethod
    def of(cls, page: DeliveryPage) -> "NotificationPage":
        return cls(items=[NotificationOut.of(d) for d in page.items], next_offset=page.next_offset)


class ChannelOut(BaseModel):
    channel: Channel
    enabled: bool
    detail: str | None = None

    @classmethod
    def of(cls, state: ChannelState) -> "ChannelOut":
        return cls(channel=state.channel, enabled=state.enabled, detail=state.detail)
