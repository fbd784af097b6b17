"""Finding 18: following an unsubscribe link (as mail scanners do) changes nothing; the
confirmation page's POST and RFC 8058 one-click POST unsubscribe, and every email says so."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from services.notify.app import build_app
from services.notify.domain.delivery import UnsubscribeTokens
from services.notify.domain.model import Channel
from services.notify.domain.sending import Message
from services.notify.mail import EmailSender, SmtpConfig
from services.notify.settings import DEV_UNSUBSCRIBE_SECRET, NotifySettings
from services.notify.usecases.residents import Unsubscribe
from shared.events import utcnow
from tests.notify.fakes import FakePreferences

TOKENS = UnsubscribeTokens(DEV_UNSUBSCRIBE_SECRET)
TOKEN = TOKENS.issue(Channel.EMAIL, "resident@example.org")
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def preferences() -> FakePreferences:
    return FakePreferences()


@pytest.fixture
def client(preferences: FakePreferences) -> TestClient:
    app = build_app(NotifySettings())
    wired = app.state.notify
    app.state.notify = replace(wired, unsubscribe=Unsubscribe(TOKENS, preferences, utcnow))
    return TestClient(app)  # no lifespan: nothing connects


def test_following_the_link_only_asks_for_confirmation(
    client: TestClient, preferences: FakePreferences
) -> None:
    page = client.get("/api/v1/unsubscribe", params={"token": TOKEN})
    assert page.status_code == 200
    assert re.search(r"<form method='post' action='unsubscribe'>", page.text)
    assert preferences.unsubscribed_keys == {}


def test_the_confirmation_form_unsubscribes(
    client: TestClient, preferences: FakePreferences
) -> None:
    page = client.get("/api/v1/unsubscribe", params={"token": TOKEN}).text
    fields = dict(re.findall(r"name='([^']+)' value='([^']+)'", page))
    done = client.post("/api/v1/unsubscribe", data=fields)
    assert done.status_code == 200
    assert list(preferences.unsubscribed_keys.values()) == [Channel.EMAIL]


def test_one_click_post_to_the_link_unsubscribes(
    client: TestClient, preferences: FakePreferences
) -> None:
    done = client.post("/api/v1/unsubscribe", params={"token": TOKEN}, data=ONE_CLICK)
    assert done.status_code == 200
    assert len(preferences.unsubscribed_keys) == 1


def test_a_forged_token_is_refused_on_the_page_and_the_post(client: TestClient) -> None:
    page = client.get("/api/v1/unsubscribe", params={"token": "k.bad"})
    post = client.post("/api/v1/unsubscribe", data={"token": "k.bad", **ONE_CLICK})
    assert (page.status_code, post.status_code) == (400, 400)
    assert post.json()["error"]["code"] == "invalid_token"


def test_emails_offer_rfc_8058_one_click() -> None:
    sender = EmailSender(SmtpConfig(host="mail.local", port=25, sender="n@fieldreports.local"))
    url = f"https://notify.example/api/v1/unsubscribe?token={TOKEN}"
    email = sender.build(
        Message("d1", Channel.EMAIL, "r@example.org", "s", "t", "<p>t</p>", {}, url)
    )
    assert email["List-Unsubscribe"] == f"<{url}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
