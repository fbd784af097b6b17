"""JSON logs on stdout with the report id, event id and trace id when they are known."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

log_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("log_context")

# Never written to a log line, whatever a caller passes in `extra`.
_PII_KEYS = {"email", "phone", "name", "contact", "first_name", "last_name", "password"}
_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            **log_context.get({}),
        }
        for key, value in record.__dict__.items():
            if key not in _STD and key not in _PII_KEYS and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "faststream", "pymongo", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def bind(**fields: str | None) -> contextvars.Token[dict[str, str]]:
    """Adds fields (report_id, event_id, trace_id) to every log line of the current task."""
    merged = {**log_context.get({}), **{k: v for k, v in fields.items() if v}}
    return log_context.set(merged)
