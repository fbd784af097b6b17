"""Channel adapters (each a `Sender`, `domain/sending.py`): signed webhooks, an SMS / chat
gateway (SMTP email: `mail.py`). Each raises `DeliveryError` when the message did not go out; `permanent` means
retrying cannot help."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
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
