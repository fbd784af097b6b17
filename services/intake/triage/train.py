"""Fitting with scikit-learn and exporting to the framework-free form `domain/triage.py`
evaluates (`FORMAT`): per n-gram its idf and one weight per class, and the intercepts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from services.intake.domain.triage import FORMAT, features_text

from .data import Example

NGRAMS = (2, 4)
MAX_FEATURES = 6000  # keeps the export near 1 MB and training to about a second
C = 20.0  # little regularisation: a few hundred short texts, sharp probabilities


def fit(examples: Sequence[Example]) -> tuple[TfidfVectorizer, LogisticRegression]:
    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAMS,
        lowercase=False,  # features_text already normalised (lower case, NFC, both views)
        sublinear_tf=True,
        max_features=MAX_FEATURES,
        dtype=np.float64,
    )
    x = vectorizer.fit_transform([features_text(e.text) for e in examples])
    model = LogisticRegression(C=C, max_iter=2000)
    model.fit(x, [e.category for e in examples], sample_weight=[e.weight for e in examples])
    return vectorizer, model


def export(
    vectorizer: TfidfVectorizer, model: LogisticRegression, version: int, model_version: str
) -> dict[str, Any]:
    classes = [str(c) for c in model.classes_]
    if len(classes) < 3:
        raise ValueError("the export is multinomial: at least three categories are needed")
    idf = vectorizer.idf_
    coef = model.coef_
    terms = {
        str(term): [float(idf[i]), *(float(coef[k, i]) for k in range(len(classes)))]
        for term, i in vectorizer.vocabulary_.items()
    }
    return {
        "format": FORMAT,
        "version": version,
        "model_version": model_version,
        "normaliser": {"form": "NFC", "lowercase": True, "second_view": "strip_marks"},
        "analyzer": "char_wb",
        "ngram_range": list(NGRAMS),
        "sublinear_tf": True,
        "norm": "l2",
        "classes": classes,
        "intercept": [float(v) for v in model.intercept_],
        "terms": terms,
    }
