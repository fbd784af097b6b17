"""Message text from the Jinja2 templates in `templates/<lang>/<recipient kind>/<event>.{txt,html}`.

`.txt` files hold two blocks, `subject` and `body` (SMS text and the email's plain part);
`.html` files are the email's HTML part, autoescaped, extending `<lang>/base.html` (which
carries the unsubscribe link); `<lang>/footer.txt` ends the plain part with the same link;
`<lang>/sms_footer.txt` is the opt-out line that ends a resident's SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

from shared.i18n import language_or_default

TEMPLATES = Path(__file__).parent / "templates"


def when(value: Any) -> str:
    """An ISO time as `2026-01-31 14:05 UTC` (messages are read by people)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str  # SMS text, and the email's plain part without its footer
    html: str
    footer: str  # plain-text email footer with the unsubscribe link ("" without one)
    sms_footer: str = ""  # the SMS opt-out line ("" without an unsubscribe link)

    @property
    def email_text(self) -> str:
        return f"{self.text}\n\n{self.footer}" if self.footer else self.text


class Renderer:
    def __init__(self, directory: Path = TEMPLATES) -> None:
        self.env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            trim_blocks=False,
            auto_reload=False,
            finalize=lambda value: "" if value is None else value,
        )
        self.env.filters["when"] = when

    def _block(self, template: Template, name: str, context: dict[str, Any]) -> str:
        return "".join(template.blocks[name](template.new_context(context))).strip()

    def render(self, name: str, language: str, context: dict[str, Any]) -> Rendered:
        lang = language_or_default(language)
        ctx = {**context, "lang": lang}
        text = self.env.get_template(f"{lang}/{name}.txt")
        html = self.env.get_template(f"{lang}/{name}.html")
        return Rendered(
            subject=" ".join(self._block(text, "subject", ctx).split()),
            text=self._block(text, "body", ctx),
            html=html.render(ctx),
            footer=self.env.get_template(f"{lang}/footer.txt").render(ctx).strip(),
            sms_footer=self.env.get_template(f"{lang}/sms_footer.txt").render(ctx).strip(),
        )
