"""The message of one delivery: its address opened, its template rendered for its channel."""

from __future__ import annotations

from typing import Any

from services.notify.domain.delivery import UnsubscribeTokens, fit_sms
from services.notify.domain.model import Channel, Delivery, RecipientKind
from services.notify.domain.sending import Message
from services.notify.rendering import Rendered, Renderer
from shared.crypto import PiiBox


class Messages:
    def __init__(
        self,
        renderer: Renderer,
        box: PiiBox,
        tokens: UnsubscribeTokens,
        public_base_url: str,
        sms_max_chars: int,
    ) -> None:
        self.renderer = renderer
        self.box = box
        self.tokens = tokens
        self.public_base_url = public_base_url
        self.sms_max_chars = sms_max_chars

    def of(self, delivery: Delivery) -> Message:
        """The message of one delivery: its address opened, its template rendered."""
        channel = delivery.channel
        assert delivery.address_sealed is not None  # only the log channel has none
        address = str(self.box.open(delivery.address_sealed, aad=delivery.id))
        unsubscribe = None
        # Every email carries the link; an SMS when its address can unsubscribe (residents).
        if channel is Channel.EMAIL or (channel is Channel.SMS and delivery.address_key):
            token = self.tokens.issue(channel, address)
            unsubscribe = f"{self.public_base_url}/api/v1/unsubscribe?token={token}"
        context = {**delivery.news.context, "unsubscribe_url": unsubscribe}
        rendered = self.renderer.render(delivery.news.template, delivery.language, context)
        return Message(
            delivery_id=delivery.id,
            channel=channel,
            address=address,
            subject=rendered.subject,
            text=self._text(channel, rendered),
            html=rendered.html,
            payload=webhook_body(delivery, rendered),
            unsubscribe_url=unsubscribe,
        )

    def _text(self, channel: Channel, rendered: Rendered) -> str:
        if channel is Channel.EMAIL:
            return rendered.email_text
        if channel is Channel.SMS:
            return fit_sms(rendered.text, rendered.sms_footer, self.sms_max_chars)
        return rendered.text


def webhook_body(delivery: Delivery, rendered: Rendered) -> dict[str, Any]:
    """The JSON a webhook receives (services/notify/README.md, "Webhook signature")."""
    news = delivery.news
    staff = delivery.recipient_kind is not RecipientKind.RESIDENT
    return {
        "id": delivery.id,
        "type": news.event_type,
        "event_id": news.event_id,
        "report_id": news.report_id,
        "recipient_kind": delivery.recipient_kind.value,
        "agency_id": delivery.recipient_id if staff else None,
        "language": delivery.language,
        "summary": rendered.subject,
        "text": rendered.text,
        "data": news.context,
    }
