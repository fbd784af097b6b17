"""Dependencies of the routes, as `Annotated` aliases: the wired use cases, filters, language."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from services.analytics.domain.stats import Filters
from services.analytics.usecases import UseCases
from services.analytics.usecases.dashboard import DashboardPage
from services.analytics.usecases.statistics import Statistics
from shared.i18n import Lang, pick_language


def use_cases(request: Request) -> UseCases:
    analytics: UseCases = request.app.state.analytics
    return analytics


def statistics(request: Request) -> Statistics:
    return use_cases(request).statistics


def dashboard(request: Request) -> DashboardPage:
    return use_cases(request).dashboard


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def filters(
    date_from: Annotated[
        date | None, Query(alias="from", description="First local day (YYYY-MM-DD), inclusive")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="Last local day (YYYY-MM-DD), inclusive")
    ] = None,
    category: Annotated[str | None, Query(description="Category code(s), comma-separated")] = None,
    agency: Annotated[str | None, Query(description="Agency id(s), comma-separated")] = None,
    area: Annotated[str | None, Query(description="Area id(s), comma-separated")] = None,
) -> Filters:
    """The filters (a `from` after `to` is refused by `Filters` itself: 422)."""
    return Filters(date_from, date_to, _split(category), _split(agency), _split(area))


def language(
    lang: Annotated[Lang | None, Query(description="Names in this language")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Lang:
    """`?lang=` first, then the best supported language of `Accept-Language`, else Vietnamese."""
    return lang or pick_language(accept_language)


StatisticsDep = Annotated[Statistics, Depends(statistics)]
DashboardDep = Annotated[DashboardPage, Depends(dashboard)]
FiltersDep = Annotated[Filters, Depends(filters)]
LangDep = Annotated[Lang, Depends(language)]
