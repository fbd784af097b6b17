"""The platform's languages and the one way to pick one (query, header, or a stored choice)."""

from __future__ import annotations

from typing import Literal, get_args

Lang = Literal["vi", "en"]
LANGUAGES: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "vi"


def supported(value: str | None) -> Lang | None:
    """`value`'s primary subtag if it is a supported language ("en-GB" -> "en"), else None."""
    code = (value or "").strip().lower().split("-")[0].split("_")[0]
    for lang in LANGUAGES:
        if code == lang:
            return lang
    return None


def pick_language(accept_language: str | None, default: Lang = DEFAULT_LANG) -> Lang:
    """The supported language an `Accept-Language` header ranks highest (by quality, then
    order); `default` when it names none."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag))
    for _, _, tag in sorted(ranked):
        lang = supported(tag)
        if lang:
            return lang
    return default


def language_or_default(value: str | None) -> Lang:
    """A stored or declared language (a resident's choice), the default when unsupported."""
    return supported(value) or DEFAULT_LANG
