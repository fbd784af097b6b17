"""Training runs: the seed model (repo data only, written to `data/seed_model.json`) and a
new version (seed + operators' corrections) stored in `triage_models`, promoted only when no
worse than the promoted one on the held-out set."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from services.intake.domain.triage import Correction, Predictor, promotion
from services.intake.settings import IntakeSettings
from services.intake.stores.triage import CorrectionStore, TriageModelStore
from shared.events import utcnow
from shared.mongo import make_client

from . import train
from .data import HELDOUT, SEED_MODEL, TRAIN, Example, read_examples, seed_model
from .evaluate import accuracy, headline

# A correction counts as this many seed examples: an operator saw the report and fixed it.
OPERATOR_WEIGHT = 3.0
SEED_VERSION = 0


def training_set(corrections: Sequence[Correction]) -> list[Example]:
    """The seed examples and one example per corrected report. Reports nobody corrected are
    not used: the resident's choice is unchecked (and, when the model chose, it would learn
    from itself)."""
    seed = read_examples(TRAIN)
    taught = [
        Example(c.description, c.category, "operator", "operator", OPERATOR_WEIGHT)
        for c in corrections
    ]
    return [*seed, *taught]


def fit_export(examples: Sequence[Example], version: int, model_version: str) -> dict[str, Any]:
    vectorizer, model = train.fit(examples)
    return train.export(vectorizer, model, version, model_version)


def train_seed() -> dict[str, Any]:
    """`train --seed-only`: the model the repo ships, used while the database holds none."""
    exported = fit_export(read_examples(TRAIN), SEED_VERSION, "seed")
    scores = accuracy(Predictor(exported), read_examples(HELDOUT))
    exported["metrics"] = scores
    SEED_MODEL.write_text(json.dumps(exported, ensure_ascii=False, separators=(",", ":")))
    return {
        "version": SEED_VERSION,
        "model_version": "seed",
        "metrics": scores,
        "path": str(SEED_MODEL),
    }


async def train_version(settings: IntakeSettings) -> dict[str, Any]:
    """Trains on seed + corrections, evaluates both the new model and the promoted one (the
    seed model if none) on today's held-out set with the serving predictor, and stores the new
    version, promoted or not."""
    client = make_client(settings)
    try:
        db = client[settings.database_name]
        models, corrections = TriageModelStore(db), CorrectionStore(db)
        taught = await corrections.all()
        examples = training_set(taught)
        heldout = read_examples(HELDOUT)
        current = await models.promoted()
        current_model = current["model"] if current else seed_model()
        current_scores = accuracy(Predictor(current_model), heldout)
        version = await models.newest_version() + 1
        exported = fit_export(examples, version, f"v{version}")
        scores = accuracy(Predictor(exported), heldout)
        promote, why = promotion(headline(scores), headline(current_scores))
        record = {
            "_id": version,
            "model_version": exported["model_version"],
            "created_at": utcnow(),
            "trained_on": {"seed": len(examples) - len(taught), "operator": len(taught)},
            "metrics": scores,
            "compared_with": {
                "model_version": current_model["model_version"],
                "metrics": current_scores,
            },
            "promoted": promote,
            "why": why,
            "model": exported,
        }
        await models.insert(record)
        return {k: v for k, v in record.items() if k not in ("model", "_id")} | {
            "version": version,
            "created_at": record["created_at"].isoformat(),
        }
    finally:
        await client.close()
