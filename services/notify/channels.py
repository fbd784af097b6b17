"""Channel adapters (each a `Sender`, `domain/sending.py`): SMTP email, signed webhooks, an SMS /
chat gateway. Each raises `DeliveryError` when the message did not go out; `permanent` means
retrying cannot help."""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx

from services.notify.domain.delivery import sign_webhook
from services.notify.domain.sending import DeliveryError, Message


async def _post(channel: str, url: str, timeout_s: float, **request: Any) -> None:
    """POSTs and turns every failure into a `DeliveryError` (permanent when retrying is futile)."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(url, **request)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{channel} unreachable: {type(exc).__name__}") from None
    code = response.status_code
    if code >= 300:
        # 4xx other than timeouts and throttling means the request itself is wrong: retrying
        # the same request cannot succeed.
        permanent = 400 <= code < 500 and code not in (408, 409, 425, 429)
        raise DeliveryError(f"{channel} answered HTTP {code}", permanent=permanent)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0


class EmailSender:
    """stdlib `smtplib` in a worker thread (one connection per message: volumes are small)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def build(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.config.sender
        email["To"] = message.address
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(idstring=message.delivery_id[:16])
        if message.unsubscribe_url:
            email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        return email

    def _send_sync(self, email: EmailMessage) -> None:
        c = self.config
        with smtplib.SMTP(c.host, c.port, timeout=c.timeout_s) as smtp:
            if c.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if c.username:
                smtp.login(c.username, c.password or "")
            smtp.send_message(email)

    async def send(self, message: Message) -> None:
        try:
            await asyncio.to_thread(self._send_sync, self.build(message))
        except smtplib.SMTPRecipientsRefused as exc:
            # The exception text carries the address: keep only the reply codes.
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise DeliveryError(f"smtp refused recipient ({codes})", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryError(f"smtp error {exc.smtp_code}", permanent=permanent) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"smtp unreachable: {type(exc).__name__}") from None


class WebhookSender:
    """POSTs the JSON body signed with HMAC-SHA256 over `"{timestamp}.{body}"`."""

    def __init__(self, secret: str, timeout_s: float = 10.0) -> None:
        self._secret = secret
        self.timeout_s = timeout_s

    def request(self, message: Message, now: int | None = None) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()
        ts = int(time.time()) if now is None else now
        headers = {
            "Content-Type": "application/json",
            "X-FieldReports-Timestamp": str(ts),
            "X-FieldReports-Signature": sign_webhook(self._secret, ts, body),
            "X-FieldReports-Delivery": message.delivery_id,
            "X-FieldReports-Event": str(message.payload.get("type", "")),
        }
        return body, headers

    async def send(self, message: Message) -> None:
        body, headers = self.request(message)
        await _post("webhook", message.address, self.timeout_s, content=body, headers=headers)


class SmsGatewaySender:
    """POSTs `{"to", "text", "reference"}` as JSON with a bearer token to the provider."""

    def __init__(self, url: str, token: str | None, timeout_s: float = 10.0) -> None:
        self.url = url
        self._token = token
        self.timeout_s = timeout_s

    async def send(self, message: Message) -> None:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        body = {"to": message.address, "text": message.text, "reference": message.delivery_id}
        await _post("sms gateway", self.url, self.timeout_s, json=body, headers=headers)
