"""The category suggestion as intake serves it: the promoted model held in memory (swapped when
a newer one is promoted), suggestions for residents, the create path's opinion, and retraining
on demand (in a separate process: scikit-learn never loads here)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from services.intake.domain.catalog import Catalog
from services.intake.domain.errors import CategoryRequired, TrainingRunning
from services.intake.domain.triage import Correction, Opinion, Predictor, Scored, TriageRules, judge
from shared.events import SuggestionV1, TriageV1
from shared.uow import Session

log = logging.getLogger(__name__)

# Runs the trainer and returns its result (version, metrics, promoted, why).
Trainer = Callable[[], Awaitable[dict[str, Any]]]


class Corrections(Protocol):
    async def put(self, c: Correction, session: Session = None) -> None: ...


class TriageModels(Protocol):
    async def newest_promoted_version(self) -> int | None: ...
    async def promoted(self) -> dict[str, Any] | None: ...


class Triage:
    def __init__(
        self,
        models: TriageModels,
        seed: Mapping[str, Any],
        rules: TriageRules,
        trainer: Trainer,
    ) -> None:
        self.models = models
        self.rules = rules
        self.trainer = trainer
        self.predictor = Predictor(seed)  # until the database's promoted model is read
        self._training = asyncio.Lock()

    @property
    def model_version(self) -> str:
        return self.predictor.model_version

    async def refresh_once(self) -> bool:
        """One indexed query; the weights are read only when a newer version was promoted."""
        newest = await self.models.newest_promoted_version()
        if newest is None or newest <= self.predictor.version:
            return False
        record = await self.models.promoted()
        if record is None:
            return False
        self.predictor = Predictor(record["model"])
        log.info("category model %s in use", self.predictor.model_version)
        return True

    def suggest(self, description: str, catalog: Catalog, n: int = 3) -> list[Scored]:
        """The `n` most likely active categories of the catalogue."""
        active = [c.code for c in catalog.categories()]
        return self.predictor.ranked(description, active)[:n]

    def opinion(self, description: str, given: str | None, catalog: Catalog) -> Opinion:
        """What the create path records; without a category and without a confident
        suggestion, `CategoryRequired` (with the suggestions in its details)."""
        predictor = self.predictor  # one model for the whole decision, even if swapped meanwhile
        active = [c.code for c in catalog.categories()]
        ranked = predictor.ranked(description, active)
        found = judge(self.rules, predictor.model_version, ranked, given)
        if found.chosen is None:
            raise CategoryRequired(
                "choose a category: the suggestion is not confident enough",
                details=[
                    {"category": s.category, "confidence": round(s.confidence, 4)}
                    for s in found.suggestions
                ],
            )
        return found

    async def retrain(self) -> dict[str, Any]:
        """Trains a new version (one at a time per replica); when promoted, this replica
        serves it at once (the others within `TRIAGE_REFRESH_S`)."""
        if self._training.locked():
            raise TrainingRunning("a training run is already in progress")
        async with self._training:
            result = await self.trainer()
            if result.get("promoted"):
                await self.refresh_once()
            return result


def triage_payload(opinion: Opinion) -> TriageV1:
    return TriageV1(
        model_version=opinion.model_version,
        suggestions=[
            SuggestionV1(category=s.category, confidence=round(s.confidence, 6))
            for s in opinion.suggestions
        ],
        chosen_by="model" if opinion.chosen_by == "model" else "resident",
        disputed=opinion.disputed,
    )
