"""Settings refused in production, and which channels a configuration switches on. No I/O."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from services.notify.app import build_senders
from services.notify.domain.model import Channel
from services.notify.settings import NotifySettings

KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
STRONG = {name: secrets.token_urlsafe(40) for name in "jwu"}


def test_production_refuses_the_development_webhook_secret() -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        NotifySettings(environment="production", pii_key=KEY, jwt_secret=STRONG["j"])


def test_production_refuses_the_development_pii_key() -> None:
    with pytest.raises(ValidationError, match="PII_KEY"):
        NotifySettings(
            environment="production",
            jwt_secret=STRONG["j"],
            webhook_secret=STRONG["w"],
            unsubscribe_secret=STRONG["u"],
        )


def test_production_starts_with_real_secrets() -> None:
    NotifySettings(
        environment="production",
        pii_key=KEY,
        jwt_secret=STRONG["j"],
        webhook_secret=STRONG["w"],
        unsubscribe_secret=STRONG["u"],
    )


def test_without_smtp_host_and_gateway_email_and_sms_are_disabled() -> None:
    senders, disabled = build_senders(NotifySettings())
    assert set(senders) == {Channel.WEBHOOK}
    assert disabled == {
        Channel.EMAIL: "SMTP_HOST is not set",
        Channel.SMS: "SMS_GATEWAY_URL is not set",
    }


def test_smtp_host_and_gateway_switch_email_and_sms_on() -> None:
    settings = NotifySettings(smtp_host="mail.local", sms_gateway_url="http://gw/send")
    senders, disabled = build_senders(settings)
    assert set(senders) == {Channel.WEBHOOK, Channel.EMAIL, Channel.SMS}
    assert disabled == {}
