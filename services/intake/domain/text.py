"""Text residents and clients send: characters that XML 1.0 cannot carry are refused at the edge
(C0 controls other than tab, newline and carriage return; lone surrogates; U+FFFE, U+FFFF), and
stripped on output for anything stored before that rule (or by another way in)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Not allowed in XML 1.0 (https://www.w3.org/TR/xml/#charsets): C0 controls except \t \n \r,
# the surrogate block (only reachable as lone surrogates, e.g. JSON "\ud800") and the noncharacters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def control_character(value: str) -> str | None:
    """A description of the first forbidden character of `value`, or None if it is clean."""
    found = _NOT_XML.search(value)
    return f"U+{ord(found.group()):04X} at position {found.start()}" if found else None


def refuse_controls(value: str) -> str:
    """`value` unchanged, or ValueError naming the forbidden character (a pydantic validator)."""
    bad = control_character(value)
    if bad:
        raise ValueError(f"control characters are not allowed ({bad})")
    return value


def refuse_controls_in(value: Any) -> Any:
    """Every string in `value` (mapping keys and values, list items) checked, recursively."""
    if isinstance(value, str):
        return refuse_controls(value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            refuse_controls_in(key)
            refuse_controls_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_controls_in(item)
    return value


def xml_safe(value: str) -> str:
    """`value` without the characters XML cannot carry (for writers of stored text)."""
    return _NOT_XML.sub("", value)
