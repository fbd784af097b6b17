"""The category model as intake serves it: the text normaliser, a pure-Python predictor over an
exported model (no scikit-learn in the serving process), and the rules that use its opinion
(accept a report without a category, flag a disputed one, promote a retrained model).

The exported form (`FORMAT`) is what `services/intake/triage` writes after training with
scikit-learn: char_wb n-grams over the normalised text, sublinear TF-IDF with L2 norm, and a
multinomial logistic regression (softmax of `coef . x + intercept`)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FORMAT = "fieldreports-triage/1"
_SPACES = re.compile(r"\s\s+")


def strip_marks(text: str) -> str:
    """Vietnamese typed without diacritics: marks removed, đ -> d (NFC result)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", kept)


def normalise(text: str) -> str:
    """Lower case, NFC, one space between words."""
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def features_text(text: str) -> str:
    """What the n-grams are taken from: the normalised text and its diacritic-free view, so
    "ngập" and "ngap" share features (a text typed without marks gets its view twice)."""
    norm = normalise(text)
    return f"{norm} {strip_marks(norm)}"


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's `analyzer="char_wb"`: n-grams inside each space-padded word."""
    grams: list[str] = []
    for word in _SPACES.sub(" ", text).split():
        w = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(w[offset : offset + n])
            while offset + n < len(w):
                offset += 1
                grams.append(w[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
    return grams


@dataclass(frozen=True)
class Scored:
    category: str
    confidence: float


class Predictor:
    """Evaluates an exported model: a few sparse dot products, no dependency."""

    def __init__(self, exported: Mapping[str, Any]) -> None:
        if exported.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: {exported.get('format')!r}")
        self.version = int(exported["version"])
        self.model_version = str(exported["model_version"])
        self.classes: list[str] = list(exported["classes"])
        low, high = exported["ngram_range"]
        self.ngram_range = (int(low), int(high))
        self.sublinear = bool(exported.get("sublinear_tf", True))
        self.intercept: list[float] = [float(v) for v in exported["intercept"]]
        # n-gram -> (idf, one weight per class)
        self.terms: dict[str, tuple[float, list[float]]] = {
            term: (float(row[0]), [float(v) for v in row[1:]])
            for term, row in exported["terms"].items()
        }

    def probabilities(self, text: str) -> dict[str, float]:
        counts = Counter(
            g for g in char_wb_ngrams(features_text(text), *self.ngram_range) if g in self.terms
        )
        scores = list(self.intercept)
        if counts:
            values = {}
            for term, count in counts.items():
                tf = 1.0 + math.log(count) if self.sublinear else float(count)
                values[term] = tf * self.terms[term][0]
            norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
            for term, value in values.items():
                weights, x = self.terms[term][1], value / norm
                for i, w in enumerate(weights):
                    scores[i] += w * x
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def ranked(self, text: str, allowed: Iterable[str] | None = None) -> list[Scored]:
        """Most likely first, only among `allowed` categories (the active ones) when given;
        the confidences are the model's probabilities, not re-normalised."""
        probs = self.probabilities(text)
        keep = set(allowed) if allowed is not None else set(probs)
        found = [Scored(c, p) for c, p in probs.items() if c in keep]
        return sorted(found, key=lambda s: (-s.confidence, s.category))


@dataclass(frozen=True)
class TriageRules:
    accept_confidence: float  # a report without a category is accepted from this confidence
    dispute_max: float  # the resident's category at most this likely ...
    dispute_min: float  # ... while the model's top category is at least this likely


@dataclass(frozen=True)
class Opinion:
    """The model's view of one report: what the create path records."""

    model_version: str
    suggestions: tuple[Scored, ...]  # top three
    chosen: str | None  # the category used: the resident's, or the confident suggestion
    chosen_by: str  # resident | model
    disputed: bool


def judge(
    rules: TriageRules, model_version: str, ranked: Sequence[Scored], given: str | None
) -> Opinion:
    """`given` is the resident's category (None: none given). Without one, the top suggestion
    is chosen if confident enough (`chosen` None otherwise: the caller refuses)."""
    top3 = tuple(ranked[:3])
    if given is None:
        confident = bool(ranked) and ranked[0].confidence >= rules.accept_confidence
        chosen = ranked[0].category if confident else None
        return Opinion(model_version, top3, chosen, "model", False)
    mine = next((s.confidence for s in ranked if s.category == given), None)
    disputed = (
        mine is not None  # a category the model does not know is never disputed
        and mine < rules.dispute_max
        and bool(ranked)
        and ranked[0].category != given
        and ranked[0].confidence >= rules.dispute_min
    )
    return Opinion(model_version, top3, given, "resident", disputed)


@dataclass(frozen=True)
class Metrics:
    """Held-out accuracy: top-1 on the texts as written and with their marks stripped."""

    top1: float
    top1_stripped: float
    top3: float = 0.0
    top3_stripped: float = 0.0


def promotion(candidate: Metrics, promoted: Metrics | None) -> tuple[bool, str]:
    """Promote only when no worse than the promoted model on both views of the held-out set."""
    if promoted is None:
        return True, "no promoted model yet"
    if candidate.top1 < promoted.top1:
        return False, f"top-1 {candidate.top1:.3f} < promoted {promoted.top1:.3f}"
    if candidate.top1_stripped < promoted.top1_stripped:
        return False, (
            f"top-1 without diacritics {candidate.top1_stripped:.3f} "
            f"< promoted {promoted.top1_stripped:.3f}"
        )
    return True, "no worse than the promoted model on the held-out set"


@dataclass(frozen=True)
class Correction:
    """An operator's change of a report's category: one training example per report (the
    latest correction wins), the resident's description with the corrected category."""

    report_id: str
    description: str
    category: str
    previous_category: str
    at: datetime
    source: str = "operator"
