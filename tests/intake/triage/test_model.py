"""The category model without I/O: the normaliser, the exported predictor against
scikit-learn, the data sets' hygiene, and the rules that use the model's opinion."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from services.intake.domain.triage import (
    Metrics,
    Predictor,
    Scored,
    TriageRules,
    features_text,
    judge,
    normalise,
    promotion,
    strip_marks,
)
from services.intake.triage import train
from services.intake.triage.data import (
    HELDOUT,
    INDEPENDENT,
    TRAIN,
    read_examples,
    seed_model,
)
from services.intake.triage.run import training_set

JURISDICTION = Path(__file__).resolve().parents[3] / "services/routing/data/demo_jurisdiction.json"
RULES = TriageRules(accept_confidence=0.6, dispute_max=0.05, dispute_min=0.7)


def _active_categories() -> set[str]:
    data = json.loads(JURISDICTION.read_text("utf-8"))
    return {c["code"] for c in data["categories"] if c.get("active", True)}


def test_normalise_lowercases_composes_and_collapses_spaces() -> None:
    decomposed = "Ngậ\u0323p".replace("ậ\u0323", "a\u0302\u0323")  # "Ngập" typed decomposed
    assert normalise(f"  {decomposed}   ÚNG ") == "ngập úng"


def test_strip_marks_removes_diacritics_and_d_stroke() -> None:
    assert strip_marks("Đường ngập úng, đèn hỏng") == "Duong ngap ung, den hong"


def test_features_carry_both_views_of_the_text() -> None:
    assert features_text("Cây đổ") == "cây đổ cay do"


def test_char_wb_ngrams_match_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from services.intake.domain.triage import char_wb_ngrams

    text = features_text("Ổ gà  to, giữa đường!")
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=False)
    assert char_wb_ngrams(text, 2, 4) == analyzer.build_analyzer()(text)


def test_exported_predictor_gives_sklearns_probabilities_on_the_heldout_set() -> None:
    examples = read_examples(TRAIN)
    vectorizer, model = train.fit(examples)
    predictor = Predictor(train.export(vectorizer, model, 1, "v1"))
    texts = [e.text for e in read_examples(HELDOUT)]
    expected = model.predict_proba(vectorizer.transform([features_text(t) for t in texts]))
    worst = max(
        abs(expected[row][k] - predictor.probabilities(text)[str(c)])
        for row, text in enumerate(texts)
        for k, c in enumerate(model.classes_)
    )
    assert worst < 1e-6


def test_no_heldout_text_appears_in_the_training_set() -> None:
    def key(text: str) -> str:
        return strip_marks(normalise(text))

    seen = {key(e.text) for e in read_examples(TRAIN)}
    assert [e.text for e in read_examples(HELDOUT) if key(e.text) in seen] == []


def test_the_independent_set_is_not_in_the_training_set() -> None:
    def key(text: str) -> str:
        return strip_marks(normalise(text))

    trained = {key(e.text) for e in training_set([])}
    assert len(read_examples(INDEPENDENT)) == 60
    assert [e.text for e in read_examples(INDEPENDENT) if key(e.text) in trained] == []


def test_every_active_category_has_40_training_and_10_heldout_examples() -> None:
    trained = Counter(e.category for e in read_examples(TRAIN))
    held = Counter(e.category for e in read_examples(HELDOUT))
    active = _active_categories()
    assert set(trained) == active
    assert set(held) == active
    assert min(trained.values()) >= 40
    assert min(held.values()) >= 10


def test_both_sets_hold_vietnamese_with_and_without_marks_and_english() -> None:
    for path in (TRAIN, HELDOUT):
        languages = Counter((e.category, e.language) for e in read_examples(path))
        assert all(
            languages[(c, lang)] >= 3
            for c in _active_categories()
            for lang in ("vi", "vi-ascii", "en")
        )


def test_the_shipped_seed_model_is_useful_on_the_heldout_set() -> None:
    predictor = Predictor(seed_model())
    heldout = read_examples(HELDOUT)
    top1 = sum(predictor.ranked(e.text)[0].category == e.category for e in heldout)
    top3 = sum(e.category in [s.category for s in predictor.ranked(e.text)[:3]] for e in heldout)
    assert top1 / len(heldout) >= 0.8
    assert top3 / len(heldout) >= 0.95


def test_ranked_keeps_only_the_allowed_categories() -> None:
    ranked = Predictor(seed_model()).ranked("Ổ gà to giữa đường", ["garbage", "streetlight"])
    assert {s.category for s in ranked} == {"garbage", "streetlight"}


def test_a_confident_suggestion_is_chosen_when_no_category_is_given() -> None:
    found = judge(RULES, "v1", [Scored("pothole", 0.8), Scored("garbage", 0.1)], None)
    assert (found.chosen, found.chosen_by) == ("pothole", "model")


def test_an_unsure_suggestion_chooses_nothing() -> None:
    found = judge(RULES, "v1", [Scored("pothole", 0.5), Scored("garbage", 0.4)], None)
    assert found.chosen is None


def test_the_residents_category_is_disputed_when_the_model_is_sure_of_another() -> None:
    ranked = [Scored("flooding", 0.9), Scored("garbage", 0.06), Scored("pothole", 0.01)]
    assert judge(RULES, "v1", ranked, "pothole").disputed
    assert not judge(RULES, "v1", ranked, "garbage").disputed


@pytest.mark.parametrize("top", [0.69, 0.5])
def test_no_dispute_when_the_model_is_not_sure_enough(top: float) -> None:
    ranked = [Scored("flooding", top), Scored("pothole", 0.01)]
    assert not judge(RULES, "v1", ranked, "pothole").disputed


def test_a_category_the_model_does_not_know_is_never_disputed() -> None:
    assert not judge(RULES, "v1", [Scored("flooding", 0.99)], "new-category").disputed


def test_a_candidate_no_worse_on_both_views_is_promoted() -> None:
    assert promotion(Metrics(0.9, 0.85), Metrics(0.9, 0.85))[0]


@pytest.mark.parametrize("candidate", [Metrics(0.89, 0.9), Metrics(0.95, 0.84)])
def test_a_candidate_worse_on_either_view_is_kept_unpromoted(candidate: Metrics) -> None:
    promote, why = promotion(candidate, Metrics(0.9, 0.85))
    assert not promote
    assert "promoted" in why
