"""W3C trace context carried from HTTP requests through the outbox and Kafka into consumers.

The current `traceparent` lives in a context variable (the outbox stamps it on every event it
writes, logs carry its trace id). `span(...)` starts a real OpenTelemetry span whose parent is the
incoming context and makes the span's own `traceparent` current while it runs.

Export is off by default: without `OTEL_EXPORTER_OTLP_ENDPOINT` the OpenTelemetry API's no-op
tracer is used, spans cost next to nothing, and the incoming `traceparent` is carried unchanged
(or a new one is made), exactly as before. With it, `configure_tracing` installs an SDK tracer
provider with a batching OTLP/HTTP exporter (the standard `OTEL_*` variables tune it).
"""

from __future__ import annotations

import contextvars
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "traceparent", default=None
)
_propagator = TraceContextTextMapPropagator()
# Follows the global provider: the no-op one until tracing is configured.
_tracer: trace.Tracer = trace.get_tracer("fieldreports")
_provider: TracerProvider | None = None

__all__ = [
    "SpanKind",
    "configure_tracing",
    "current_traceparent",
    "flush_tracing",
    "new_traceparent",
    "set_traceparent",
    "span",
    "trace_id",
]


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def trace_id(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def current_traceparent() -> str | None:
    return _traceparent.get()


def set_traceparent(value: str | None) -> contextvars.Token[str | None]:
    return _traceparent.set(value if trace_id(value) else new_traceparent())


def configure_tracing(
    service_name: str, *, endpoint: str | None = None, exporter: SpanExporter | None = None
) -> bool:
    """Installs an SDK tracer provider when an OTLP endpoint (or an exporter) is given.

    Reads `OTEL_EXPORTER_OTLP_ENDPOINT` when `endpoint` is None. Once per process: later calls
    (several apps in one test process) keep the first provider. Returns whether spans export.
    """
    global _provider, _tracer
    if _provider is not None:
        return True
    endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
    if exporter is None and endpoint is None:
        return False
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # Given no argument, the exporter reads OTEL_EXPORTER_OTLP_* and appends /v1/traces.
        from_env = endpoint is None or endpoint == os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        exporter = (
            OTLPSpanExporter()
            if from_env
            else OTLPSpanExporter(endpoint=f"{(endpoint or '').rstrip('/')}/v1/traces")
        )
    resource = Resource.create({"service.name": service_name, "service.namespace": "fieldreports"})
    _provider = TracerProvider(resource=resource)
    _provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(_provider)
    _tracer = _provider.get_tracer("fieldreports")
    log.info("tracing: exporting spans over OTLP to %s", endpoint or "the given exporter")
    return True


def flush_tracing(timeout_ms: int = 5000) -> None:
    """Pushes buffered spans out (called at shutdown)."""
    if _provider is not None:
        _provider.force_flush(timeout_ms)


def _format(ctx: trace.SpanContext) -> str:
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


@contextmanager
def span(
    name: str,
    parent: str | None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: dict[str, str] | None = None,
) -> Iterator[str]:
    """Runs a span whose parent is the W3C `parent` traceparent (a new trace if it is invalid).

    Yields the span's own traceparent, which is also the current one (`current_traceparent`)
    until the block ends: events written inside it are children of this span.
    """
    incoming = parent if trace_id(parent) else None
    context = _propagator.extract({"traceparent": incoming}) if incoming else None
    with _tracer.start_as_current_span(
        name, context=context, kind=kind, attributes=attributes
    ) as current:
        ctx = current.get_span_context()
        # The no-op tracer (export off) returns the parent's context, or an invalid one.
        token = set_traceparent(_format(ctx) if ctx.is_valid else incoming)
        try:
            yield current_traceparent() or ""
        finally:
            _traceparent.reset(token)
