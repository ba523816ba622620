"""Prometheus texts (RabbitMQ's plugin, Kafka lag exporters) to queue samples by rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.prometheus import (
    PrometheusDecodeError,
    load_prometheus_rules,
    parse_metrics,
)
from tests.vectors import vector_dir
from tower.yamlfile import ConfigFileError

RULES = load_prometheus_rules()

KAFKA_LAG = """\
# HELP kafka_consumergroup_lag Current Approximate Lag of a ConsumerGroup at Topic/Partition
# TYPE kafka_consumergroup_lag gauge
kafka_consumergroup_lag{consumergroup="my-group",partition="0",topic="topic3"} 154289
kafka_consumergroup_lag{consumergroup="my-group",partition="1",topic="topic3"} 157799
kafka_consumergroup_lag{consumergroup="my-group",partition="2",topic="topic3"} 155157
kafka_consumergroup_lag{consumergroup="my-group",partition="0",topic="topic1"} 1665
# HELP kafka_consumergroup_lag_sum Current Approximate Lag of a ConsumerGroup at Topic
# TYPE kafka_consumergroup_lag_sum gauge
kafka_consumergroup_lag_sum{consumergroup="my-group",topic="topic3"} 467245
kafka_consumergroup_lag_sum{consumergroup="my-group",topic="topic1"} 1665
kafka_consumergroup_lag_sum{consumergroup="orders.dlq-reader",topic="orders.dlq"} 12
"""


def test_rabbitmq_plugin_detailed_metrics_3_11() -> None:
    text = vector_dir("queues") / "rabbitmq-prometheus-detailed-queue_coarse_metrics-3.11.3.txt"
    samples, rejected = parse_metrics(text.read_text(), rules=RULES, time_ns=1, broker="scrape")
    assert rejected == []
    got = {s.queue: (s.depth, s.ready, s.unacked) for s in samples}
    assert got == {"queue1": (0, 0, 0), "queue2": (1, 1, 0), "queue3": (0, 0, 0)}
    # the broker is named by rabbitmq_identity_info's rabbitmq_cluster label
    assert {(s.broker, s.vhost, s.origin) for s in samples} == {
        ("rabbit@54cfac2199f1", "/", "prometheus")
    }


def test_rabbitmq_plugin_delivery_metrics_4_0_give_no_depth_and_no_error() -> None:
    path = vector_dir("queues") / "rabbitmq-prometheus-detailed-queue_delivery_metrics-4.0.7.txt"
    samples, rejected = parse_metrics(path.read_text(), rules=RULES, time_ns=1, broker="s")
    assert (samples, rejected) == ([], [])


def test_kafka_lag_sums_partitions_per_group_and_topic() -> None:
    samples, rejected = parse_metrics(KAFKA_LAG, rules=RULES, time_ns=1, broker="kafka.prod")
    assert rejected == []
    got = {s.queue: (s.depth, s.dead_letter) for s in samples}
    # the per-partition rule comes first, so lag_sum does not count twice
    assert got == {
        "my-group/topic1": (1665, False),
        "my-group/topic3": (467245, False),
        "orders.dlq-reader/orders.dlq": (12, True),
    }
    assert {s.broker for s in samples} == {"kafka.prod"}


def test_a_queue_without_depth_is_refused_and_ready_plus_unacked_is_depth(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "series:\n"
        "  - {metric: q_ready, field: ready}\n"
        "  - {metric: q_unacked, field: unacked}\n"
        "  - {metric: q_consumers, field: consumers}\n"
    )
    text = 'q_ready{queue="a"} 4\nq_unacked{queue="a"} 2\nq_consumers{queue="b"} 1\n'
    samples, rejected = parse_metrics(
        text, rules=load_prometheus_rules(rules), time_ns=1, broker="x"
    )
    assert [(s.queue, s.depth, s.vhost) for s in samples] == [("a", 6, "")]
    assert [r.reason for r in rejected] == ["queue 'b': no series gives its depth"]


def test_not_prometheus_text() -> None:
    with pytest.raises(PrometheusDecodeError):
        parse_metrics("this is { not metrics", rules=RULES, time_ns=1, broker="x")


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("series:\n  - {metric: m, field: depht}\n", 2, "series.0.field"),
        ("series:\n  - metric: m\n    field: depth\n    queue: '{a!r}'\n", 4, "plain label name"),
        ("dead_letter_names: '(('\n", 1, "not a valid regular expression"),
    ],
)
def test_bad_rules_fail_at_load_with_file_and_line(
    tmp_path: Path, body: str, line: int, reason: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(ConfigFileError) as caught:
        load_prometheus_rules(path)
    assert caught.value.line == line
    assert reason in caught.value.reason
