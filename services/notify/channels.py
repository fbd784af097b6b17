"""Channel adapters (each a `Sender`, `domain/sending.py`): SMTP email, signed webhooks, an SMS /
chat gateway. Each raises `DeliveryError` when the message did not go out; `permanent` means
retrying cannot help."""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid, parseaddr
from typing import Any

import httpx

from services.notify.domain.delivery import sign_webhook
from services.notify.domain.destinations import DestinationPolicy, RefusedDestination
from services.notify.domain.sending import DeliveryError, Message
from services.notify.egress import Resolve, guarded_client, resolve


class HttpClient:
    """One `httpx.AsyncClient` for a sender, made on first use in the running event loop: its
    connections and TLS setup are reused (making a client costs more than a local POST)."""

    def __init__(self, make: Callable[[], httpx.AsyncClient] = httpx.AsyncClient) -> None:
        self._make = make
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client, self._loop = self._make(), loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = self._loop = None


# What a failed POST is recorded as: a bounded category, so that the delivery log does not
# tell whoever edits a webhook URL what answered at that address (or how).
REFUSED, TIMEOUT, CONNECTION_FAILED = "refused_destination", "timeout", "connection_failed"


def _failure(code: int) -> DeliveryError:
    """A non-2xx answer: 3xx (redirects are not followed) and 4xx other than timeouts and
    throttling mean the request itself is wrong, so retrying it cannot succeed."""
    category = f"http_{code // 100}xx" if 300 <= code < 600 else "http_other"
    permanent = 300 <= code < 500 and code not in (408, 409, 425, 429)
    return DeliveryError(category, permanent=permanent)


async def _post(client: HttpClient, url: str, timeout_s: float, **request: Any) -> None:
    """POSTs and turns every failure into a `DeliveryError` with a bounded category."""
    try:
        response = await client.get().post(url, timeout=timeout_s, **request)
    except RefusedDestination:
        raise DeliveryError(REFUSED, permanent=True) from None
    except httpx.TimeoutException:
        raise DeliveryError(TIMEOUT) from None
    except httpx.HTTPError:
        raise DeliveryError(CONNECTION_FAILED) from None
    if response.status_code >= 300 or response.status_code < 200:
        raise _failure(response.status_code)


_WIRE = policy.compat32.clone(linesep="\r\n")  # SMTP's line ends, for compat32 messages


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0


class SmtpPool:
    """Open SMTP connections kept for reuse, at most `size` idle (the sender has `size`
    threads, so never more open). One idle longer than `idle_s` is closed rather than reused
    (servers drop quiet clients after a few minutes)."""

    def __init__(self, config: SmtpConfig, size: int, idle_s: float = 30.0) -> None:
        self.config, self.size, self.idle_s = config, size, idle_s
        self._idle: list[tuple[smtplib.SMTP, float]] = []
        self._lock = threading.Lock()
        self.opened = 0  # connections made so far (tests, bench)

    def open(self) -> smtplib.SMTP:
        c = self.config
        smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
        try:
            if c.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if c.username:
                smtp.login(c.username, c.password or "")
        except BaseException:
            self.discard(smtp)
            raise
        with self._lock:
            self.opened += 1
        return smtp

    def take(self) -> tuple[smtplib.SMTP, bool]:
        """An idle connection (and True: it may have been dropped meanwhile), else a new one."""
        stale: list[smtplib.SMTP] = []
        found: smtplib.SMTP | None = None
        with self._lock:
            while self._idle and found is None:
                smtp, since = self._idle.pop()
                if time.monotonic() - since > self.idle_s:
                    stale.append(smtp)
                else:
                    found = smtp
        for smtp in stale:
            self.discard(smtp, polite=True)
        return (found, True) if found is not None else (self.open(), False)

    def give(self, smtp: smtplib.SMTP) -> None:
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append((smtp, time.monotonic()))
                return
        self.discard(smtp, polite=True)

    @staticmethod
    def discard(smtp: smtplib.SMTP, polite: bool = False) -> None:
        try:
            if polite:
                smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            smtp.close()

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for smtp, _ in idle:
            self.discard(smtp, polite=True)


class EmailSender:
    """stdlib `smtplib` in worker threads of its own, `connections` of them, each message on a
    connection kept open from an earlier one when there is one (`SmtpPool`). A kept connection
    the server has dropped is replaced once, at once; any other failure drops the connection
    and is the delivery's (retried by the worker as before)."""

    def __init__(self, config: SmtpConfig, connections: int = 8) -> None:
        self.config = config
        self.pool = SmtpPool(config, connections)
        self._threads = ThreadPoolExecutor(max_workers=connections, thread_name_prefix="smtp")
        self._envelope_from = parseaddr(config.sender)[1] or config.sender
        # make_msgid without a domain asks the resolver for this host's name on every email
        self._msgid_domain = self._envelope_from.rpartition("@")[2] or "localhost"

    def build(self, message: Message) -> EmailMessage | MIMEMultipart:
        """The email: text and HTML alternatives, one-click unsubscribe (RFC 8058).

        Built with the stdlib's compat32 MIME classes, about 3x cheaper in CPU than
        `EmailMessage`, whose header registry parses every header it is given (at 20 emails a
        second that was a fifth of a core). `EmailMessage` stays for an address that is not
        ASCII: it needs SMTPUTF8, which only that policy writes."""
        if not (message.address.isascii() and self.config.sender.isascii()):
            return self._build_international(message)
        email = MIMEMultipart("alternative")
        email["From"] = self.config.sender
        email["To"] = message.address
        email["Subject"] = Header(message.subject, "utf-8").encode()
        email["Message-ID"] = make_msgid(message.delivery_id[:16], self._msgid_domain)
        _unsubscribe_headers(email, message)
        email.attach(MIMEText(message.text, "plain", "utf-8"))
        email.attach(MIMEText(message.html, "html", "utf-8"))
        return email

    def _build_international(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.config.sender
        email["To"] = message.address
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(message.delivery_id[:16], self._msgid_domain)
        _unsubscribe_headers(email, message)
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        return email

    def _send_sync(self, email: EmailMessage | MIMEMultipart) -> None:
        smtp, reused = self.pool.take()
        try:
            try:
                self._transmit(smtp, email)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                if not reused:
                    raise
                self.pool.discard(smtp)  # dropped while idle: nothing was accepted on it
                smtp = self.pool.open()
                self._transmit(smtp, email)
        except BaseException:
            self.pool.discard(smtp)
            raise
        self.pool.give(smtp)

    def _transmit(self, smtp: smtplib.SMTP, email: EmailMessage | MIMEMultipart) -> None:
        if isinstance(email, EmailMessage):
            smtp.send_message(email)
        else:
            smtp.sendmail(self._envelope_from, [str(email["To"])], email.as_bytes(policy=_WIRE))

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._threads, self.pool.close_all)

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
    """POSTs the JSON body signed with HMAC-SHA256 over `"{timestamp}.{body}"`, only to
    destinations `policy` allows (checked on the URL, then on each address connected to)."""

    def __init__(
        self,
        secret: str,
        policy: DestinationPolicy,
        timeout_s: float = 10.0,
        resolver: Resolve = resolve,
    ) -> None:
        self._secret = secret
        self.policy = policy
        self.timeout_s = timeout_s
        self.http = HttpClient(lambda: guarded_client(policy, resolver))

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
        try:
            self.policy.check_url(message.address)
        except RefusedDestination:
            raise DeliveryError(REFUSED, permanent=True) from None
        body, headers = self.request(message)
        await _post(self.http, message.address, self.timeout_s, content=body, headers=headers)


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
        await _post(self.http, self.url, self.timeout_s, json=body, headers=headers)


def _unsubscribe_headers(email: EmailMessage | MIMEMultipart, message: Message) -> None:
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        # RFC 8058: clients may POST to that URL; GET only asks for confirmation.
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
