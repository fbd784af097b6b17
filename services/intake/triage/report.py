"""`make triage-eval`: the held-out and independent figures and the suggestion's latency, as
short tables."""

from __future__ import annotations

from typing import Any

from services.intake.domain.triage import Predictor
from services.intake.settings import IntakeSettings
from services.intake.stores.triage import TriageModelStore
from shared.mongo import make_client

from .data import HELDOUT, INDEPENDENT, read_examples, seed_model
from .evaluate import accuracy, latency_ms


async def _model(settings: IntakeSettings | None) -> dict[str, Any]:
    if settings is None:
        return seed_model()
    client = make_client(settings)
    try:
        record = await TriageModelStore(client[settings.database_name]).promoted()
    finally:
        await client.close()
    return record["model"] if record else seed_model()


async def eval_report(settings: IntakeSettings | None) -> str:
    """The seed model's figures (or, with settings, the database's promoted model's) on the
    held-out set and on the independent set, and the latency."""
    predictor = Predictor(await _model(settings))
    heldout = read_examples(HELDOUT)
    independent = read_examples(INDEPENDENT)
    lat = latency_ms(predictor, [e.text for e in heldout])
    lines = [
        f"model {predictor.model_version} ({len(predictor.classes)} categories)",
        f"held-out set: {len(heldout)} descriptions, never trained on",
        *_table(accuracy(predictor, heldout)),
        f"independent set: {len(independent)} descriptions by another author, never trained "
        "or tuned on",
        *_table(accuracy(predictor, independent)),
        f"latency (predictor only, {len(heldout)} texts x 5): "
        f"median {lat['median']:.2f} ms, p99 {lat['p99']:.2f} ms",
    ]
    return "\n".join(lines)


def _table(scores: dict[str, Any]) -> list[str]:
    lines = [
        f"{'group':<10} {'n':>4} {'top-1':>7} {'top-3':>7} {'top-1 no-marks':>15} "
        f"{'top-3 no-marks':>15}"
    ]
    for name, s in scores.items():
        lines.append(
            f"{name:<10} {s['n']:>4} {s['top1']:>7.1%} {s['top3']:>7.1%} "
            f"{s['top1_stripped']:>15.1%} {s['top3_stripped']:>15.1%}"
        )
    return lines
