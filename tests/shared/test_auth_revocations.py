"""Token revocation (`shared.auth.Revocations`): tokens below their account's current version
are refused; the versions are refreshed by one query at most once per interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.auth import AuthConfig, Principal, Revocations, TokenCodec
from shared.errors import Unauthorized, Unavailable

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class Feed:
    """Accounts changed: username -> (version, changed at); counts the queries."""

    def __init__(self) -> None:
        self.changes: dict[str, tuple[int, datetime]] = {}
        self.queries: list[datetime] = []
        self.down = False

    async def __call__(self, since: datetime) -> list[tuple[str, int]]:
        if self.down:
            raise ConnectionError("database down")
        self.queries.append(since)
        return [(u, v) for u, (v, at) in self.changes.items() if at >= since]


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _revocations(feed: Feed, ticks: Ticks) -> Revocations:
    return Revocations(
        feed,
        ttl=timedelta(hours=8),
        refresh=timedelta(seconds=5),
        clock=lambda: T0,
        monotonic=ticks,
    )


def _token(version: int) -> Principal:
    return Principal(sub="lan", scopes=["staff"], agency_id="hue-water", token_version=version)


def test_the_token_version_travels_in_the_token() -> None:
    codec = TokenCodec(AuthConfig())
    assert codec.verify(codec.issue(_token(7))).token_version == 7


async def test_a_token_below_the_accounts_version_is_refused() -> None:
    feed = Feed()
    feed.changes["lan"] = (2, T0 - timedelta(hours=1))
    with pytest.raises(Unauthorized) as refused:
        await _revocations(feed, Ticks()).check(_token(1))
    assert refused.value.code == "token_revoked"


async def test_a_token_at_the_current_version_is_accepted() -> None:
    feed = Feed()
    feed.changes["lan"] = (2, T0 - timedelta(hours=1))
    await _revocations(feed, Ticks()).check(_token(2))


async def test_the_first_load_reads_the_changes_of_a_tokens_lifetime() -> None:
    feed = Feed()
    await _revocations(feed, Ticks()).check(_token(0))
    assert feed.queries == [T0 - timedelta(hours=8, seconds=60)]


async def test_checks_within_the_interval_share_one_query() -> None:
    feed, ticks = Feed(), Ticks()
    revocations = _revocations(feed, ticks)
    for _ in range(10):
        await revocations.check(_token(0))
    ticks.now = 5.0
    await revocations.check(_token(0))
    assert len(feed.queries) == 2


async def test_a_change_made_elsewhere_is_seen_after_the_interval() -> None:
    feed, ticks = Feed(), Ticks()
    revocations = _revocations(feed, ticks)
    await revocations.check(_token(0))
    feed.changes["lan"] = (1, T0)
    ticks.now = 5.0
    with pytest.raises(Unauthorized):
        await revocations.check(_token(0))


async def test_a_change_noted_here_applies_at_once() -> None:
    feed, ticks = Feed(), Ticks()
    revocations = _revocations(feed, ticks)
    await revocations.check(_token(0))
    revocations.note("lan", 1)
    with pytest.raises(Unauthorized):
        await revocations.check(_token(0))


async def test_tokens_are_refused_while_the_versions_cannot_be_read() -> None:
    feed = Feed()
    feed.down = True
    with pytest.raises(Unavailable):
        await _revocations(feed, Ticks()).check(_token(0))
