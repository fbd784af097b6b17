"""The typed event contract for the AsyncAPI documents: one CloudEvent model per topic."""

from __future__ import annotations

import builtins
import functools
import re
from typing import Any, Literal

from pydantic import Field, create_model

from shared.events import PAYLOADS, CloudEvent


@functools.cache
def envelope(topic: str) -> builtins.type[CloudEvent]:
    """`topic`'s CloudEvent with `type` fixed and `data` typed (`ReportCreatedEvent`...), for the
    AsyncAPI documents. Consumers validate the lenient `CloudEvent` and decode `data` in the
    handler, so a payload that fails its model is dead-lettered through the handler's failure."""
    model = PAYLOADS[topic]
    name = "".join(part.capitalize() for part in re.split(r"[._]", topic)) + "Event"
    fixed_type: Any = Literal[topic]
    return create_model(
        name,
        __base__=CloudEvent,
        __doc__=f"`{topic}`: {model.__doc__ or model.__name__}",
        type=(fixed_type, Field(description="Event type, equal to its topic name")),
        data=(model, Field(description=f"The payload: {model.__name__}")),
    )
