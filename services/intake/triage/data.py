"""The labelled examples: the seed set and the held-out set kept in the repo (see the README),
and the exported seed model the service starts with when its database holds none."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
TRAIN = DATA / "train.jsonl"
HELDOUT = DATA / "heldout.jsonl"
# Written by another author without reading the two sets above; never trained on, never tuned
# on: `make triage-eval` only reports it.
INDEPENDENT = DATA / "independent.jsonl"
SEED_MODEL = DATA / "seed_model.json"


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    language: str = "vi"  # vi, vi-ascii (typed without diacritics), en
    source: str = "seed"  # seed | operator
    weight: float = 1.0


def read_examples(path: Path) -> list[Example]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [Example(r["text"], r["category"], r.get("language", "vi")) for r in rows]


def seed_model() -> dict[str, Any]:
    exported: dict[str, Any] = json.loads(SEED_MODEL.read_text("utf-8"))
    return exported
