"""Channel adapters (each a `Sender`, `domain/sending.py`): SMTP email, signed webhooks, an SMS /
chat gateway. Each raises `DeliveryError` when the message did not go out; `permanent` means
retrying cannot help."""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx

from services.notify.domain.delivery import sign_webhook
from services.notify.domain.sending import DeliveryError, Message


class HttpClient:
    """One `httpx.AsyncClient` for a sender, made on first use in the running event loop: its
    connections and TLS setup are reused (making a client costs more than a local POST)."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client, self._loop = httpx.AsyncClient(), loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = self._loop = None


async def _post(
    client: HttpClient, channel: str, url: str, timeout_s: float, **request: Any
) -> None:
    """POSTs and turns every failure into a `DeliveryError` (permanent when retrying is futile)."""
    try:
        response = await client.get().post(url, timeout=timeout_s, **request)
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
    """stdlib `smtplib` in worker threads of its own, `connections` of them (one connection per
    message)."""

    def __init__(self, config: SmtpConfig, connections: int = 8) -> None:
        self.config = config
        self._threads = ThreadPoolExecutor(max_workers=connections, thread_name_prefix="smtp")

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

    async def aclose(self) -> None:
        pass  # one connection per message: nothing stays open

    async def send(self, message: Message) -> None:
        try:
            email = self.build(message)
            await asyncio.get_running_loop().run_in_executor(self._threads, self._send_sync, email)
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
        self.http = HttpClient()

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

    async def aclose(self) -> None:
        await self.http.aclose()

    async def send(self, message: Message) -> None:
        body, headers = self.request(message)
        await _post(
            self.http, "webhook", message.address, self.timeout_s, content=body, headers=headers
        )


class SmsGatewaySender:
    """POSTs `{"to", "text", "reference"}` as JSON with a bearer token to the provider."""

    def __init__(self, url: str, token: str | None, timeout_s: float = 10.0) -> None:
        self.url = url
        self._token = token
        self.timeout_s = timeout_s
        self.http = HttpClient()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def send(self, message: Message) -> None:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        body = {"to": message.address, "text": message.text, "reference": message.delivery_id}
        await _post(self.http, "sms gateway", self.url, self.timeout_s, json=body, headers=headers)
