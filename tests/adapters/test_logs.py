"""adapters.logs: realistic middleware log lines to records with keys, severity and time."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.logs import LogRules, load_log_rules, parse_lines, severity_number
from tower.yamlfile import ConfigFileError

HEAD = "2026-11-23 09:15:00,123 [http-nio-8080-exec-3] ERROR c.acme.erp.OrderPosting"
JAVA = f"""\
{HEAD} - posting failed for order W-1001
java.lang.IllegalStateException: credit block on sales order 4500012
\tat com.acme.erp.OrderPosting.post(OrderPosting.java:88)
\tat com.acme.erp.Worker.run(Worker.java:41)
Caused by: java.sql.SQLException: lock timeout
\t... 12 more
2026-11-23 09:15:01,007 [main] INFO c.acme.erp.OrderPosting - posted order W-1002
"""


@pytest.fixture(scope="module")
def rules() -> LogRules:
    return load_log_rules()


def test_a_java_stack_trace_folds_into_its_error_line(rules: LogRules) -> None:
    error, info = parse_lines(JAVA, rules=rules, source="erp.s4")

    assert error.extractor == "logback"
    assert error.is_error and error.severity_text == "ERROR"
    assert error.body.count("\n") == 5  # the trace, its frames, the cause
    assert error.keys == {"oms_order": "W-1001", "erp_sales_order": "4500012"}
    assert error.time_ns == 1_795_425_300_123_000_000  # naive: the rules' zone, UTC
    assert error.attributes["logger"] == "c.acme.erp.OrderPosting"
    assert (info.severity_number, info.keys) == (9, {"oms_order": "W-1002"})


def test_json_log_records_by_dotted_path(rules: LogRules) -> None:
    line = (
        '{"@timestamp":"2026-11-23T09:16:00.5+01:00","level":"error","message":"pick failed",'
        '"mdc":{"orderId":"W-7","correlationId":"c-1"}}'
    )
    (record,) = parse_lines(line, rules=rules, source="wms.dc-east")

    assert record.extractor == "json"
    assert record.is_error
    assert record.keys == {"oms_order": "W-7", "correlation": "c-1"}
    assert record.time_ns == 1_795_421_760_500_000_000


def test_key_value_lines(rules: LogRules) -> None:
    line = 'time=2026-11-23T09:17:00Z level=warn msg="carrier slow" shipment_id=SH-77 attempt=3'
    (record,) = parse_lines(line, rules=rules, source="tms")

    assert record.extractor == "keyvalue"
    assert record.severity_number == 13
    assert record.attributes["msg"] == "carrier slow"
    assert record.keys == {"wms_shipment": "SH-77"}


def test_lines_no_extractor_reads_are_kept(rules: LogRules) -> None:
    (record,) = parse_lines("something odd happened", rules=rules, source="x")

    assert record.extractor is None
    assert record.body == "something odd happened"
    assert (record.time_ns, record.severity_number, record.keys) == (None, 0, {})


def test_severity_words() -> None:
    assert [severity_number(w) for w in ("WARN", "Error", "SEVERE", "fatal", "??", None)] == [
        13, 17, 17, 21, 0, 0,
    ]  # fmt: skip


def test_a_bad_extractor_names_file_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "logs.yaml"
    path.write_text("extractors:\n  - name: broken\n    format: regex\n    pattern: '(unclosed'\n")

    with pytest.raises(ConfigFileError) as caught:
        load_log_rules(path)

    assert f"{path}:2" in str(caught.value)
    assert "not a valid regular expression" in str(caught.value)
