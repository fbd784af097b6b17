"""The dashboard page: one HTML template, filled with the language and the refresh period."""

from __future__ import annotations

from shared.i18n import Lang


class DashboardPage:
    def __init__(self, template: str, refresh_s: int) -> None:
        self.template = template
        self.refresh_s = refresh_s

    def __call__(self, lang: Lang) -> str:
        """The page in `lang`; its script reads the statistics API and reloads every refresh_s."""
        return self.template.replace("{{lang}}", lang).replace("{{refresh_s}}", str(self.refresh_s))
