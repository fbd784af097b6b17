"""Operators' delivery log and channels, unsubscribing, and the status stream. Fakes, no I/O."""

from __future__ import annotations

import asyncio

import pytest

from services.notify.domain.errors import (
    InvalidUnsubscribeToken,
    ReportNotFound,
    TooManyStreams,
)
from services.notify.domain.model import Channel, DeliveryFilter, StatusChange
from services.notify.stream import StatusHub, StreamLimit
from services.notify.usecases.operators import Channels, ChannelState, DeliveryLog
from services.notify.usecases.residents import Unsubscribe
from services.notify.usecases.stream import StatusStream, StreamConfig
from shared.events import utcnow
from tests.notify.fakes import TOKENS, FakePreferences, FakeReports, Rig
from tests.notify.harness import assigned, created, resolved


async def test_delivery_log_pages_and_says_where_the_next_page_starts() -> None:
    rig = Rig()
    await rig.apply(created("r1", {"email": "n@example.org", "phone": "+84901112233"}))
    log = DeliveryLog(rig.deliveries)
    first = await log.page(DeliveryFilter(report_id="r1"), limit=2, offset=0)
    last = await log.page(DeliveryFilter(report_id="r1"), limit=2, offset=2)
    assert (len(first.items), first.next_offset) == (2, 2)
    assert (len(last.items), last.next_offset) == (1, None)


async def test_delivery_log_filters_by_channel() -> None:
    rig = Rig()
    await rig.apply(created("r1", {"email": "n@example.org", "phone": "+84901112233"}))
    page = await DeliveryLog(rig.deliveries).page(DeliveryFilter(channel=Channel.SMS), 10, 0)
    assert [d.channel for d in page.items] == [Channel.SMS]


def test_channels_say_which_are_off_and_why() -> None:
    states = Channels({Channel.SMS: "SMS_GATEWAY_URL is not set"}).states()
    assert states == [
        ChannelState(Channel.LOG, True, None),
        ChannelState(Channel.EMAIL, True, None),
        ChannelState(Channel.WEBHOOK, True, None),
        ChannelState(Channel.SMS, False, "SMS_GATEWAY_URL is not set"),
    ]


async def test_unsubscribe_stores_the_address_key_for_the_tokens_channel() -> None:
    prefs = FakePreferences()
    use_case = Unsubscribe(TOKENS, prefs, utcnow)
    channel = await use_case.unsubscribe(TOKENS.issue(Channel.SMS, "+84 901 112 233"))
    assert channel is Channel.SMS
    assert prefs.unsubscribed_keys == {TOKENS.address_key(Channel.SMS, "+84901112233"): Channel.SMS}


async def test_forged_unsubscribe_token_is_refused_and_stores_nothing() -> None:
    prefs = FakePreferences()
    token = TOKENS.issue(Channel.EMAIL, "n@example.org")
    with pytest.raises(InvalidUnsubscribeToken):
        await Unsubscribe(TOKENS, prefs, utcnow).unsubscribe(token[:-1] + "0")
    assert prefs.unsubscribed_keys == {}


def status_stream(reports: FakeReports, cap: int = 2) -> tuple[StatusStream, asyncio.Event]:
    stop = asyncio.Event()
    hub = StatusHub(reports, interval_s=1)
    config = StreamConfig(keepalive_s=0.05, retry_after_s=7)
    return StatusStream(reports, hub, StreamLimit(cap, max_per_client=100), config, stop), stop


async def test_stream_of_an_unknown_report_is_refused() -> None:
    stream, _ = status_stream(FakeReports())
    with pytest.raises(ReportNotFound):
        await stream.open("r1", "c1")


async def test_stream_over_the_cap_is_refused_with_retry_after_until_one_is_released() -> None:
    rig = Rig()
    await rig.apply(created("r1", None))
    stream, _ = status_stream(rig.reports, cap=1)
    slot = await stream.open("r1", "c1")
    with pytest.raises(TooManyStreams) as refused:
        await stream.open("r1", "c1")
    assert refused.value.retry_after_s == 7
    slot.release()
    assert await stream.open("r1", "c1") is not None


async def test_stream_resumes_after_the_given_change() -> None:
    rig = Rig()
    await rig.apply(created("r1", None), assigned("r1", "roads"), resolved("r1", "roads"))
    stream, stop = status_stream(rig.reports)
    got: list[StatusChange] = []
    changes = stream.changes("r1", 1, await stream.open("r1", "c1"), _connected)
    async for change in changes:
        if change is not None:
            got.append(change)
        if len(got) == 2:
            stop.set()
    assert [(c.n, c.status.value) for c in got] == [(2, "assigned"), (3, "resolved")]


async def test_stream_sends_keep_alives_while_nothing_happens() -> None:
    rig = Rig()
    await rig.apply(created("r1", None))
    stream, stop = status_stream(rig.reports)
    seen: list[StatusChange | None] = []
    async for change in stream.changes("r1", 1, await stream.open("r1", "c1"), _connected):
        seen.append(change)
        stop.set()
    assert seen == [None]


async def test_stream_gives_its_slot_back_when_it_ends() -> None:
    rig = Rig()
    await rig.apply(created("r1", None))
    stream, stop = status_stream(rig.reports, cap=1)
    stop.set()
    async for _ in stream.changes("r1", 0, await stream.open("r1", "c1"), _connected):
        pass
    assert stream.limit.open == 0


async def _connected() -> bool:
    return False
