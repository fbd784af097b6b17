"""One language picker for every service."""

from shared.i18n import language_or_default, pick_language


def test_accept_language_is_ranked_by_quality() -> None:
    assert pick_language("fr, en;q=0.5, vi;q=0.9") == "vi"


def test_region_subtags_count_as_their_language() -> None:
    assert pick_language("en-GB,en;q=0.8") == "en"


def test_no_supported_language_falls_back_to_vietnamese() -> None:
    assert pick_language("fr, de") == "vi"
    assert pick_language(None) == "vi"


def test_a_stored_language_outside_the_supported_ones_becomes_vietnamese() -> None:
    assert (language_or_default("EN"), language_or_default("ja")) == ("en", "vi")
