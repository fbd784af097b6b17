"""shared/tracing.py: real OpenTelemetry spans parented by the incoming W3C context (no I/O)."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import tracing
from shared.tracing import SpanKind, current_traceparent, span, trace_id

INCOMING = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_tracer", provider.get_tracer("test"))
    return exporter


def test_span_continues_the_incoming_trace_with_its_own_span_id(
    exported: InMemorySpanExporter,
) -> None:
    with span("HTTP POST", INCOMING, kind=SpanKind.SERVER) as tp:
        assert trace_id(tp) == trace_id(INCOMING)
        assert tp != INCOMING
        assert current_traceparent() == tp
    (done,) = exported.get_finished_spans()
    assert done.parent is not None
    assert done.parent.span_id == int("b7ad6b7169203331", 16)


def test_nested_span_is_a_child_of_the_current_one(exported: InMemorySpanExporter) -> None:
    with span("process report.created", INCOMING) as outer, span("publish", outer):
        pass
    inner, outer_span = exported.get_finished_spans()
    assert inner.parent is not None
    assert inner.parent.span_id == outer_span.context.span_id


def test_span_without_valid_parent_starts_a_new_trace(exported: InMemorySpanExporter) -> None:
    with span("HTTP GET", "garbage") as tp:
        assert trace_id(tp)
        assert trace_id(tp) != trace_id(INCOMING)


@pytest.fixture
def export_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "_tracer", trace.NoOpTracer())


@pytest.mark.usefixtures("export_off")
def test_export_off_keeps_the_incoming_traceparent() -> None:
    with span("HTTP GET", INCOMING) as tp:
        assert tp == INCOMING


@pytest.mark.usefixtures("export_off")
def test_export_off_without_parent_makes_a_new_traceparent() -> None:
    with span("HTTP GET", None) as tp:
        assert trace_id(tp)
    assert current_traceparent() != tp
