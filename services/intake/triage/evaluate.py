"""Held-out evaluation with the serving predictor (what residents will get, not sklearn's view):
top-1 and top-3 accuracy on the texts as written and with their diacritics stripped, per
language, and the predictor's latency."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

from services.intake.domain.triage import Metrics, Predictor, strip_marks

from .data import Example


def _hits(predictor: Predictor, examples: Sequence[Example], strip: bool) -> tuple[int, int]:
    top1 = top3 = 0
    for e in examples:
        ranked = [s.category for s in predictor.ranked(strip_marks(e.text) if strip else e.text)]
        top1 += ranked[:1] == [e.category]
        top3 += e.category in ranked[:3]
    return top1, top3


def accuracy(predictor: Predictor, examples: Sequence[Example]) -> dict[str, Any]:
    """{"all": {...}, "<language>": {...}} with top1, top3, top1_stripped, top3_stripped, n."""
    groups: dict[str, list[Example]] = {"all": list(examples)}
    for e in examples:
        groups.setdefault(e.language, []).append(e)
    out: dict[str, Any] = {}
    for name, group in groups.items():
        n = len(group) or 1
        t1, t3 = _hits(predictor, group, strip=False)
        s1, s3 = _hits(predictor, group, strip=True)
        out[name] = {
            "n": len(group),
            "top1": round(t1 / n, 4),
            "top3": round(t3 / n, 4),
            "top1_stripped": round(s1 / n, 4),
            "top3_stripped": round(s3 / n, 4),
        }
    return out


def headline(scores: dict[str, Any]) -> Metrics:
    a = scores["all"]
    return Metrics(a["top1"], a["top1_stripped"], a["top3"], a["top3_stripped"])


def latency_ms(predictor: Predictor, texts: Sequence[str], rounds: int = 5) -> dict[str, float]:
    """Median and p99 of one suggestion (normalise, n-grams, scores, ranking)."""
    samples = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            predictor.ranked(text)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return {"median": round(statistics.median(samples), 3), "p99": round(p99, 3)}
