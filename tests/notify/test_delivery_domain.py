"""Retry schedule, masking, webhook signatures, unsubscribe tokens and templates. No I/O."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.notify.domain.delivery import (
    RetryPolicy,
    UnsubscribeTokens,
    fit_sms,
    mask,
    sign_webhook,
    verify_webhook,
)
from services.notify.domain.model import Channel, DeliveryStatus
from services.notify.metrics import NotifyMetrics, RecordedCounter
from services.notify.rendering import TEMPLATES, Renderer

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=10, base_s=30, max_delay_s=100)
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_failure_schedules_next_attempt() -> None:
    status, at = RetryPolicy(base_s=30).after_failure(1, NOW)
    assert (status, at) == (DeliveryStatus.FAILED, NOW + timedelta(seconds=30))


def test_last_attempt_is_dead() -> None:
    assert RetryPolicy(max_attempts=3).after_failure(3, NOW) == (DeliveryStatus.DEAD, None)


def test_permanent_refusal_is_dead_at_once() -> None:
    assert RetryPolicy().after_failure(1, NOW, permanent=True)[0] is DeliveryStatus.DEAD


@pytest.mark.parametrize(
    ("channel", "address", "shown"),
    [
        (Channel.EMAIL, "nguyen@example.org", "n***@example.org"),
        (Channel.SMS, "+84901234567", "+84***67"),
        (Channel.WEBHOOK, "https://water.example/hooks/x?k=1", "https://water.example/***"),
    ],
)
def test_recipients_are_masked(channel: Channel, address: str, shown: str) -> None:
    assert mask(channel, address) == shown


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign_webhook("s3cret", 1700000000, b"{}") == f"v1={expected}"


def test_receiver_refuses_tampered_body_and_old_timestamp() -> None:
    sig = sign_webhook("k", 1000, b'{"a":1}')
    assert verify_webhook("k", "1000", b'{"a":1}', sig, now=1010)
    assert not verify_webhook("k", "1000", b'{"a":2}', sig, now=1010)
    assert not verify_webhook("k", "1000", b'{"a":1}', sig, now=5000)


def test_unsubscribe_token_names_the_address_without_containing_it() -> None:
    tokens = UnsubscribeTokens("secret")
    token = tokens.issue(Channel.EMAIL, "N@Example.org")
    assert "example" not in token.lower()
    assert tokens.verify_token(token) == (
        Channel.EMAIL,
        tokens.address_key(Channel.EMAIL, "n@example.org"),
    )


def test_sms_token_names_the_phone_number_whatever_its_spelling() -> None:
    tokens = UnsubscribeTokens("secret")
    token = tokens.issue(Channel.SMS, "+84 905-550.123")
    assert "905" not in token
    assert tokens.verify_token(token) == (
        Channel.SMS,
        tokens.address_key(Channel.SMS, "+84905550123"),
    )


def test_email_tokens_keep_their_format_and_channel() -> None:
    tokens = UnsubscribeTokens("secret")
    token = tokens.issue(Channel.EMAIL, "n@example.org")
    key = tokens.address_key(Channel.EMAIL, "n@example.org")
    assert token.startswith(f"{key}.")
    assert tokens.verify_token(token) == (Channel.EMAIL, key)


def test_email_token_cannot_be_turned_into_an_sms_token() -> None:
    tokens = UnsubscribeTokens("secret")
    assert tokens.verify_token("sms-" + tokens.issue(Channel.EMAIL, "n@example.org")) is None


def test_short_sms_is_sent_whole_with_its_opt_out_line() -> None:
    assert fit_sms("Hello there.", "Stop: http://x/u", 160) == "Hello there.\nStop: http://x/u"


def test_long_sms_is_cut_at_a_word_and_keeps_the_opt_out_line_whole() -> None:
    body = "Phản ánh về Ổ gà đã được tiếp nhận " * 20
    footer = "Ngừng nhận SMS: http://notify/api/v1/unsubscribe?token=sms-abc.def"
    text = fit_sms(body, footer, 160)
    cut, _, tail = text.rpartition("\n")
    assert len(text) <= 160
    assert tail == footer
    assert cut.endswith("…")
    assert body.startswith(cut[:-1])
    assert body[len(cut) - 1] == " "  # cut before a space: no half word


def test_long_sms_without_opt_out_line_uses_the_whole_cap() -> None:
    text = fit_sms("a " * 300, "", 160)
    assert len(text) <= 160
    assert len(text) > 150
    assert text.endswith("…")


def test_forged_unsubscribe_token_is_refused() -> None:
    key = UnsubscribeTokens("secret").address_key(Channel.EMAIL, "n@example.org")
    assert UnsubscribeTokens("secret").verify_token(f"{key}.deadbeef") is None
    assert (
        UnsubscribeTokens("other").verify_token(
            UnsubscribeTokens("secret").issue(Channel.EMAIL, "n@example.org")
        )
        is None
    )


CONTEXT = {
    "report_id": "r1",
    "report_url": "http://x/r1",
    "agency_name": "Sở Giao thông",
    "category_name": "Ổ gà",
    "note": "<b>Đã vá</b>",
    "unsubscribe_url": "http://n/u?token=t",
}


def test_resolution_in_vietnamese() -> None:
    out = Renderer().render("resident/resolved", "vi", CONTEXT)
    assert out.subject == "Phản ánh của bạn đã được xử lý xong"
    assert "Kết quả: <b>Đã vá</b>" in out.text


def test_resolution_in_english() -> None:
    out = Renderer().render("resident/resolved", "en", CONTEXT)
    assert out.subject == "Your report has been resolved"


def test_html_is_escaped_and_carries_the_unsubscribe_link() -> None:
    html = Renderer().render("resident/resolved", "en", CONTEXT).html
    assert "&lt;b&gt;" in html
    assert "<b>Đã vá" not in html
    assert 'href="http://n/u?token=t"' in html


def test_unknown_language_falls_back_to_vietnamese() -> None:
    assert Renderer().render("resident/closed", "fr", CONTEXT).subject == "Phản ánh của bạn đã đóng"


def test_every_template_exists_in_both_languages() -> None:
    for lang, other in (("vi", "en"), ("en", "vi")):
        mine = {p.relative_to(TEMPLATES / lang) for p in (TEMPLATES / lang).rglob("*.*")}
        theirs = {p.relative_to(TEMPLATES / other) for p in (TEMPLATES / other).rglob("*.*")}
        assert mine == theirs


def test_readme_verification_snippet_accepts_our_signature() -> None:
    readme = (TEMPLATES.parent / "README.md").read_text()
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    body, now = b'{"id":"d1"}', int(time.time())
    headers = {
        "X-FieldReports-Timestamp": str(now),
        "X-FieldReports-Signature": sign_webhook("s", now, body),
    }
    assert namespace["verify"]("s", headers, body)
    assert not namespace["verify"]("other", headers, body)


def test_recorded_deliveries_are_counted_once_per_event() -> None:
    registry = CollectorRegistry()
    counter = RecordedCounter(NotifyMetrics(registry), remember=2)
    outcomes = [("log", "recorded"), ("email", "skipped")]
    counter.count("e1", outcomes)
    counter.count("e1", outcomes)  # the transaction ran the handler again
    counter.count("e2", outcomes[:1])
    labels = {"channel": "log", "outcome": "recorded"}
    assert registry.get_sample_value("notifications_delivered_total", labels) == 2
    assert (
        registry.get_sample_value(
            "notifications_delivered_total", {"channel": "email", "outcome": "skipped"}
        )
        == 1
    )
