"""Idempotency decisions, resident action rules, catalogue checks, rate limit, cursors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.intake.domain import rules
from services.intake.domain.catalog import Catalog, validate_attributes
from services.intake.domain.errors import InvalidInput, NotResolved
from services.intake.domain.idempotency import (
    Decision,
    IdempotencyRecord,
    decide,
    fingerprint,
)
from services.intake.domain.paging import decode_cursor, encode_cursor
from services.intake.domain.ratelimit import TokenBuckets
from shared.i18n import pick_language
from tests.intake.conftest import CATALOG

LIGHT = next(c for c in CATALOG.categories if c.code == "streetlight")


def record(fp: str) -> IdempotencyRecord:
    return IdempotencyRecord("k", fp, "r1", "sealed", datetime(2026, 1, 1, tzinfo=UTC))


def test_unknown_key_means_create() -> None:
    assert decide(None, fingerprint({"a": 1})) is Decision.NEW


def test_same_key_same_body_means_replay_whatever_the_key_order() -> None:
    stored = record(fingerprint({"a": 1, "b": 2}))
    assert decide(stored, fingerprint({"b": 2, "a": 1})) is Decision.REPLAY


def test_same_key_other_body_means_conflict() -> None:
    stored = record(fingerprint({"a": 1}))
    assert decide(stored, fingerprint({"a": 2})) is Decision.CONFLICT


def test_only_resolved_reports_can_be_rated() -> None:
    rules.check_can_rate("resolved")
    with pytest.raises(NotResolved):
        rules.check_can_rate("assigned")


def test_reopen_needs_resolved_or_closed() -> None:
    rules.check_can_reopen("closed")
    with pytest.raises(NotResolved):
        rules.check_can_reopen("in_progress")


def test_token_hash_matches_only_its_token() -> None:
    token = rules.new_tracking_token()
    stored = rules.token_hash(token)
    assert rules.token_matches(token, stored)
    assert not rules.token_matches(token + "x", stored)


def test_required_attribute_missing_is_refused() -> None:
    with pytest.raises(InvalidInput, match="pole_id"):
        validate_attributes(LIGHT, {})


def test_multivalue_attribute_outside_list_is_refused() -> None:
    with pytest.raises(InvalidInput, match="issues"):
        validate_attributes(LIGHT, {"pole_id": "P1", "issues": ["dark", "smoke"]})


def test_unknown_attribute_is_refused() -> None:
    with pytest.raises(InvalidInput, match="colour"):
        validate_attributes(LIGHT, {"pole_id": "P1", "colour": "red"})


def test_valid_attributes_come_back_clean() -> None:
    assert validate_attributes(LIGHT, {"pole_id": "P1", "issues": "dark"}) == {
        "pole_id": "P1",
        "issues": ["dark"],
    }


def test_open311_keeps_only_the_attributes_a_service_defines() -> None:
    given = {"pole_id": "P1", "fixmystreet_id": "42"}
    assert Catalog(CATALOG).defined_attributes("streetlight", given) == {"pole_id": "P1"}


def test_accept_language_picks_by_quality() -> None:
    assert pick_language("fr, en;q=0.8, vi;q=0.9") == "vi"
    assert pick_language("en-GB") == "en"
    assert pick_language(None) == "vi"


def test_bucket_refuses_after_burst_and_says_when_to_retry() -> None:
    now = [0.0]
    buckets = TokenBuckets(2, 60, clock=lambda: now[0])
    assert [buckets.take("ip"), buckets.take("ip")] == [0.0, 0.0]
    assert buckets.take("ip") == pytest.approx(1.0)
    now[0] = 1.0
    assert buckets.take("ip") == 0.0


def test_buckets_are_per_client() -> None:
    buckets = TokenBuckets(1, 1)
    assert buckets.take("a") == 0.0
    assert buckets.take("b") == 0.0


def test_cursor_round_trips_and_garbage_is_refused() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert decode_cursor(encode_cursor(at, "r1")) == (at, "r1")
    with pytest.raises(InvalidInput):
        decode_cursor("!!nope")


def test_distance_of_one_degree_latitude_is_about_111_km() -> None:
    assert rules.distance_m(16.0, 107.0, 17.0, 107.0) == pytest.approx(111_195, rel=0.01)


def test_idempotency_key_is_scoped_by_client_identity() -> None:
    from services.intake.domain.idempotency import client_identity, scoped_key

    assert client_identity("app-1", "10.0.0.1") == "id:app-1"
    assert client_identity(None, "10.0.0.1") == client_identity("", "10.0.0.1") == "ip:10.0.0.1"
    # an X-Client-Id that looks like an IP is still not that IP's scope
    assert client_identity("10.0.0.1", "10.0.0.2") != client_identity(None, "10.0.0.1")
    assert scoped_key("ip:a", "k") != scoped_key("ip:b", "k")
    assert scoped_key("ip:a", "k") == scoped_key("ip:a", "k")
