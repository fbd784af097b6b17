"""A production start refuses weak secrets, not only the known development ones (finding 1)."""

from __future__ import annotations

import base64
import os
import secrets

import pytest
from pydantic import ValidationError

from services.intake.settings import IntakeSettings
from services.notify.settings import NotifySettings
from services.routing.settings import RoutingSettings
from shared.secrets import Secret

STRONG = secrets.token_urlsafe(48)
KEY = base64.b64encode(os.urandom(32)).decode()


@pytest.mark.parametrize(
    "value", ["REPLACE_ME", "change-me-please-0123456789abcdef", "x" * 40, "<generated>"]
)
def test_placeholders_are_refused(value: str) -> None:
    assert Secret(value, "secret").problem() == (
        "looks like a placeholder: generate one with "
        "python3 -c 'import secrets;print(secrets.token_urlsafe(48))'"
    )


def test_a_short_secret_is_refused() -> None:
    assert "shorter than 32" in str(Secret(secrets.token_urlsafe(12), "secret").problem())


def test_a_regular_secret_is_refused() -> None:
    assert "too regular" in str(Secret("ab" * 20, "secret").problem())


def test_a_key_must_be_32_random_bytes_in_base64() -> None:
    short = base64.b64encode(b"k" * 16).decode()
    assert "not base64" in str(Secret("REPLACE_ME_base64_32_bytes", "key").problem())
    assert "16 bytes" in str(Secret(short, "key").problem())
    assert Secret(KEY, "key").problem() is None


def test_a_weak_admin_password_is_refused_and_a_passphrase_accepted() -> None:
    assert Secret("Summer2026", "password").problem() is not None
    assert Secret("Hue-river 2026 perfume!", "password").problem() is None


def test_routing_refuses_a_placeholder_jwt_secret_and_names_it() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET looks like a placeholder"):
        RoutingSettings(environment="production", jwt_secret="REPLACE_ME")


def test_routing_refuses_a_placeholder_admin_password() -> None:
    with pytest.raises(ValidationError, match="BOOTSTRAP_ADMIN_PASSWORD"):
        RoutingSettings(
            environment="production",
            jwt_secret=STRONG,
            bootstrap_admin_password="REPLACE_ME_at_least_12_chars",
        )


def test_intake_refuses_a_placeholder_open311_key_among_good_ones() -> None:
    with pytest.raises(ValidationError, match="OPEN311_API_KEYS"):
        IntakeSettings(
            environment="production", pii_key=KEY, open311_api_keys=f"{STRONG},REPLACE_ME"
        )


def test_notify_starts_with_strong_secrets() -> None:
    settings = NotifySettings(
        environment="production",
        pii_key=KEY,
        jwt_secret=STRONG,
        webhook_secret=secrets.token_urlsafe(40),
        unsubscribe_secret=secrets.token_urlsafe(40),
    )
    assert settings.dev_defaults_in_use() == []
