import json
import logging

from shared.logging import JsonFormatter, bind, log_context


def _line(**extra: object) -> dict[str, object]:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "hello", (), None)
    record.__dict__.update(extra)
    return json.loads(JsonFormatter("intake").format(record))  # type: ignore[no-any-return]


def test_log_line_is_json_with_bound_report_and_trace_ids() -> None:
    token = bind(report_id="r1", trace_id="abc")
    try:
        line = _line()
    finally:
        log_context.reset(token)
    assert (line["report_id"], line["trace_id"], line["service"]) == ("r1", "abc", "intake")


def test_contact_fields_never_reach_a_log_line() -> None:
    line = _line(email="a@example.org", phone="0900", category="pothole")
    assert "email" not in line
    assert "phone" not in line
    assert line["category"] == "pothole"
