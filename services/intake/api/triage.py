"""The category suggestion (`/api/v1/triage`): residents ask for suggestions; staff retrain."""

# No `from __future__ import annotations`: FastAPI resolves `Security(...)` at runtime.

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Security
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.intake.domain.catalog import localized
from services.intake.domain.errors import NotFound
from services.intake.domain.report import DESCRIPTION_MAX
from services.intake.domain.text import refuse_controls_in
from services.intake.usecases.quotas import SUGGEST
from services.intake.usecases.triage import Triage
from shared.auth import SCOPES, Principal

from .deps import LangDep, QueriesDep, intake, rate_limit

router = APIRouter(prefix="/api/v1/triage", tags=["triage"])


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    lat: float | None = Field(default=None, ge=-90, le=90, description="Accepted, not used yet")
    lon: float | None = Field(default=None, ge=-180, le=180, description="Accepted, not used yet")
    language: Literal["vi", "en"] | None = Field(
        default=None, description="Names in this language (else by Accept-Language)"
    )

    _clean = field_validator("description")(refuse_controls_in)

    @field_validator("description")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v


class SuggestionOut(BaseModel):
    category: str
    name: str
    confidence: float


class SuggestOut(BaseModel):
    model_version: str
    suggestions: list[SuggestionOut] = Field(description="Most likely first (three at most)")


class RetrainOut(BaseModel):
    version: int
    model_version: str
    promoted: bool
    why: str
    metrics: dict[str, Any] = Field(description="Held-out accuracy, overall and per language")
    compared_with: dict[str, Any] = Field(description="The promoted model on the same set")
    trained_on: dict[str, int]


def _triage(request: Request) -> Triage:
    wired = intake(request).triage
    if wired is None:
        raise NotFound("the category suggestion is not enabled")
    return wired


# (security scopes, bearer token) -> the caller, or a refusal (shared/auth.py, wired in app.py)
Authenticate = Callable[[SecurityScopes, str | None], Awaitable[Principal]]
_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", scopes=SCOPES, auto_error=False)


async def _principal(
    request: Request, scopes: SecurityScopes, token: Annotated[str | None, Depends(_bearer)]
) -> Principal:
    authenticate: Authenticate = request.app.state.intake_authenticate
    return await authenticate(scopes, token)


TriageDep = Annotated[Triage, Depends(_triage)]
Staff = Annotated[Principal, Security(_principal, scopes=["operator", "admin"])]


@router.post(
    "/suggest",
    response_model=SuggestOut,
    summary="The three most likely categories for a description",
    dependencies=[Depends(rate_limit(SUGGEST))],
)
async def suggest(
    body: SuggestIn, triage: TriageDep, queries: QueriesDep, lang: LangDep
) -> SuggestOut:
    catalog = await queries.catalog()
    language = body.language or lang
    model_version = triage.model_version
    found = triage.suggest(body.description, catalog)
    names = {c.code: c.name for c in catalog.categories()}
    return SuggestOut(
        model_version=model_version,
        suggestions=[
            SuggestionOut(
                category=s.category,
                name=localized(names.get(s.category, {}), language) or s.category,
                confidence=round(s.confidence, 4),
            )
            for s in found
        ],
    )


@router.post(
    "/retrain",
    response_model=RetrainOut,
    summary="Train a new model version now (operator or admin); promoted only if no worse",
)
async def retrain(triage: TriageDep, staff: Staff) -> RetrainOut:
    return RetrainOut.model_validate(await triage.retrain())
