"""Where an agency webhook may be sent: the rule that keeps a catalogue's `webhook_url` from
reaching the platform's own network (loopback, cloud metadata, the database port).

The URL is checked before sending (scheme), and every address its host resolves to is checked
again at connect time, on the addresses actually connected to (`services/notify/egress.py`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Allowed when no allow-list is configured, outside production only: local test receivers.
LOOPBACK = "127.0.0.0/8,::1/128"


class RefusedDestination(Exception):
    """The webhook URL or the address it resolves to is not a public destination."""


def networks(allow_list: str) -> tuple[IPNetwork, ...]:
    """`"10.1.2.0/24, 2001:db8::/32"` -> networks (a bare address is one host)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in allow_list.split(",")
        if part.strip()
    )


def _unmapped(ip: IPAddress) -> IPAddress:
    """`::ffff:127.0.0.1` is 127.0.0.1 (and 6to4 `2002:7f00:1::` too): judge the IPv4 inside."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is not None:
            return inner
    return ip


def is_public(ip: IPAddress) -> bool:
    """A globally routable unicast address: not loopback, link-local (169.254/16, fe80::/10),
    private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), multicast, unspecified or
    reserved."""
    ip = _unmapped(ip)
    refused = (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or not ip.is_global
    )
    return not refused


@dataclass(frozen=True)
class DestinationPolicy:
    https_only: bool
    allowed: tuple[IPNetwork, ...] = ()  # non-public networks that may be reached anyway

    @classmethod
    def of(cls, *, production: bool, allow_list: str | None) -> DestinationPolicy:
        """Production: https only, and no non-public network unless listed. Elsewhere http
        too, and loopback allowed unless an allow-list says otherwise."""
        listed = allow_list if allow_list is not None else ("" if production else LOOPBACK)
        return cls(https_only=production, allowed=networks(listed))

    def check_url(self, url: str) -> None:
        """Refuses a URL that is not http(s) with a host (not https, when https is required)."""
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname, parts.port  # .port raises on a bad port
        except ValueError:
            raise RefusedDestination("malformed url") from None
        schemes = ("https",) if self.https_only else ("https", "http")
        if parts.scheme not in schemes or not host:
            raise RefusedDestination("scheme or host not allowed")

    def allows(self, address: str) -> bool:
        """Whether a resolved address may be connected to."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
        except ValueError:
            return False
        candidates = {ip, _unmapped(ip)}
        if any(c in net for c in candidates for net in self.allowed):
            return True
        return is_public(ip)
