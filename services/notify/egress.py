"""Outbound HTTP to destinations a catalogue names (agency webhooks), kept off the platform's
own network.

httpx resolves and connects deep inside its connection pool, so the check sits there: the pool
gets a network backend that resolves the host once, refuses the connection unless every
address is allowed (`domain/destinations.py`), and connects to those checked addresses, never
to the name again (no DNS rebinding between check and connect). TLS still verifies the
certificate against the URL's host name (SNI), and the Host header is the URL's. Proxy
variables from the environment are ignored (the proxy would be what is checked) and
redirects are not followed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from services.notify.domain.destinations import DestinationPolicy, RefusedDestination

# host, port -> the addresses the host resolves to
Resolve = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to checked addresses of the requested host."""

    def __init__(self, policy: DestinationPolicy, resolver: Resolve = resolve) -> None:
        self.policy = policy
        self.resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def _addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            addresses = await asyncio.wait_for(self.resolver(host, port), timeout)
        except TimeoutError:
            raise httpcore.ConnectTimeout("name resolution timed out") from None
        except OSError:
            raise httpcore.ConnectError("name does not resolve") from None
        # One refused address refuses them all: a name that answers with a private address
        # among public ones is not trusted either.
        if not addresses or not all(self.policy.allows(a) for a in addresses):
            raise RefusedDestination("destination address not allowed")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception = httpcore.ConnectError("no address")
        for address in await self._addresses(host, port, timeout):
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedDestination("unix sockets are not a destination")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_client(policy: DestinationPolicy, resolver: Resolve = resolve) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` whose every connection goes through `GuardedBackend`."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    # httpx takes no network backend of its own: its transport's pool is replaced by one that
    # has it, with httpx's defaults (certificate checks on, HTTP/1.1).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(policy, resolver),
    )
    return httpx.AsyncClient(transport=transport, trust_env=False, follow_redirects=False)
