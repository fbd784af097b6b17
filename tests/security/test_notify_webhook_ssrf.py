"""Finding 2: agency webhooks reach only public destinations (or an explicit allow-list), the
address is checked after name resolution and is the one connected to, redirects are not
followed, and the delivery log says only a bounded category of what went wrong."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.servers import free_port
from services.notify.channels import WebhookSender
from services.notify.domain.destinations import DestinationPolicy, RefusedDestination
from services.notify.domain.model import Channel
from services.notify.domain.sending import DeliveryError, Message
from services.notify.egress import Resolve
from services.notify.settings import NotifySettings
from tests.notify.peers import HttpReceiver, http_receiver

PRODUCTION = DestinationPolicy.of(production=True, allow_list=None)
NOTHING_ALLOWED = DestinationPolicy.of(production=False, allow_list="")
LOOPBACK_ALLOWED = DestinationPolicy.of(production=False, allow_list=None)

REFUSED_ADDRESSES = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "169.254.169.254",
    "fe80::1",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "100.64.0.1",
    "fc00::1",
    "fd12:3456::1",
    "224.0.0.1",
    "ff02::1",
    "0.0.0.0",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "2002:7f00:1::1",
    "not-an-address",
]


@pytest.fixture(scope="module")
def http() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


def message(url: str) -> Message:
    return Message("d1", Channel.WEBHOOK, url, "s", "t", "<p>t</p>", {"type": "report.assigned"})


async def refusal(policy: DestinationPolicy, url: str, resolver: Resolve | None = None) -> str:
    sender = WebhookSender(
        "secret", policy, timeout_s=2, **({"resolver": resolver} if resolver else {})
    )
    try:
        with pytest.raises(DeliveryError) as failed:
            await sender.send(message(url))
    finally:
        await sender.aclose()
    return f"{failed.value}{' (permanent)' if failed.value.permanent else ''}"


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_non_public_addresses_are_refused_without_an_allow_list(address: str) -> None:
    assert not PRODUCTION.allows(address)


def test_public_addresses_are_allowed() -> None:
    assert PRODUCTION.allows("93.184.215.14")
    assert PRODUCTION.allows("2606:4700::1111")


def test_an_allow_listed_network_may_be_reached() -> None:
    policy = DestinationPolicy.of(production=True, allow_list="10.20.0.0/16")
    assert policy.allows("10.20.1.2")
    assert not policy.allows("10.21.1.2")


def test_production_sends_to_https_only() -> None:
    with pytest.raises(RefusedDestination):
        PRODUCTION.check_url("http://hooks.example.org/x")
    PRODUCTION.check_url("https://hooks.example.org/x")


def test_a_malformed_allow_list_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="webhook_allowed_networks"):
        NotifySettings(webhook_allowed_networks="10.0.0.0/33")


async def test_loopback_receiver_gets_nothing_without_an_allow_list(http: HttpReceiver) -> None:
    assert await refusal(NOTHING_ALLOWED, http.url("/probe")) == "refused_destination (permanent)"
    assert http.at("/probe") == []


async def test_a_name_resolving_to_loopback_is_refused(http: HttpReceiver) -> None:
    url = f"http://localhost:{http.port}/by-name"
    assert await refusal(NOTHING_ALLOWED, url) == "refused_destination (permanent)"
    assert http.at("/by-name") == []


async def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "169.254.169.254"]

    url = "http://hooks.example.org/x"
    assert await refusal(NOTHING_ALLOWED, url, mixed) == "refused_destination (permanent)"


async def test_metadata_address_is_refused_in_production() -> None:
    url = "https://169.254.169.254/latest/meta-data/"
    assert await refusal(PRODUCTION, url) == "refused_destination (permanent)"


async def test_sender_connects_to_the_checked_address_with_the_urls_host(
    http: HttpReceiver,
) -> None:
    async def pinned(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "hooks.example.org" else []

    sender = WebhookSender("secret", LOOPBACK_ALLOWED, timeout_s=2, resolver=pinned)
    await sender.send(message(f"http://hooks.example.org:{http.port}/pinned"))
    await sender.aclose()
    [received] = http.at("/pinned")
    assert received.headers["Host"] == f"hooks.example.org:{http.port}"


async def test_redirects_are_not_followed(http: HttpReceiver) -> None:
    http.redirects["/moved"] = http.url("/internal")
    assert await refusal(LOOPBACK_ALLOWED, http.url("/moved")) == "http_3xx (permanent)"
    assert http.at("/internal") == []


async def test_errors_name_a_category_not_what_answered(http: HttpReceiver) -> None:
    http.fail_first["/down"] = 99
    closed = f"http://127.0.0.1:{free_port()}/"
    assert await refusal(LOOPBACK_ALLOWED, http.url("/down")) == "http_5xx"
    assert await refusal(LOOPBACK_ALLOWED, closed) == "connection_failed"
