"""Prometheus text exposition to queue samples, by declarative rules (pure: text in, samples out).

A rule maps one metric's series to one field of a queue sample (depth, ready, unacked,
consumers, rates, oldest age); label templates name the queue, the vhost and the broker.
Series of one metric that land on the same queue add up (Kafka lag per partition becomes the
consumer group's lag on the topic); when two rules give the same field of the same queue, the
earlier rule wins. adapters/rules/prometheus.yaml covers RabbitMQ's own Prometheus plugin and
Kafka consumer-group lag exporters (docs/queues.md). Parsing uses prometheus_client's parser.
"""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path
from typing import Literal

from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.rabbitmq import DEAD_LETTER_NAME
from adapters.records import QueueSample, Rejected
from tower.yamlfile import load_yaml_model

__all__ = [
    "BrokerLabel",
    "PrometheusDecodeError",
    "PrometheusRules",
    "SeriesRule",
    "load_prometheus_rules",
    "parse_metrics",
]

QueueField = Literal[
    "depth", "ready", "unacked", "consumers", "publish_rate", "deliver_rate", "oldest_age_seconds"
]
_INTEGERS = {"depth", "ready", "unacked", "consumers"}


class PrometheusDecodeError(ValueError):
    """The text is not Prometheus text exposition."""


def _template(value: str) -> str:
    """A label template such as "{consumergroup}/{topic}": only plain label names inside."""
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"not a label template ({exc}): {value!r}") from exc
    for _, name, spec, conversion in parsed:
        if name is not None and (not name.isidentifier() or spec or conversion):
            raise ValueError(f"{{{name}}} in {value!r} is not a plain label name")
    return value


class SeriesRule(BaseModel):
    """One metric's series -> one field of the sample of the queue its labels name."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    field: QueueField
    queue: str = "{queue}"
    vhost: str = "{vhost}"
    broker: str | None = Field(None, description="A template; default: the scrape's broker.")
    scale: float = Field(1.0, description="Multiply the value, e.g. 0.001 for milliseconds.")

    @field_validator("queue", "vhost", "broker")
    @classmethod
    def _templates(cls, value: str | None) -> str | None:
        return None if value is None else _template(value)


class BrokerLabel(BaseModel):
    """A metric whose label names the broker (rabbitmq_identity_info's rabbitmq_cluster)."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    label: str


class PrometheusRules(BaseModel):
    """adapters/rules/prometheus.yaml: which series become which queue fields."""

    model_config = ConfigDict(extra="forbid")

    series: list[SeriesRule] = Field(default_factory=list)
    broker_labels: list[BrokerLabel] = Field(default_factory=list)
    dead_letter_names: str | None = Field(
        None, description="A regular expression; default: the shipped dead-letter name pattern."
    )

    @field_validator("dead_letter_names")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc}): {value!r}") from exc
        return value


def load_prometheus_rules(path: Path | None = None) -> PrometheusRules:
    """The rules in `path`, or the shipped ones; a bad file raises ConfigFileError."""
    if path is None:
        with resources.as_file(resources.files("adapters").joinpath("rules/prometheus.yaml")) as p:
            return load_yaml_model(p, PrometheusRules)
    return load_yaml_model(path, PrometheusRules)


def parse_metrics(
    text: str, *, rules: PrometheusRules, time_ns: int, broker: str
) -> tuple[list[QueueSample], list[Rejected]]:
    """Queue samples from one scrape; a queue without a depth (nor ready + unacked) is refused."""
    by_metric: dict[str, list[tuple[int, SeriesRule]]] = {}
    for index, rule in enumerate(rules.series):
        by_metric.setdefault(rule.metric, []).append((index, rule))
    brokers = {b.metric: b.label for b in rules.broker_labels}
    found: dict[tuple[str, str, str], dict[str, tuple[int, float]]] = {}
    named_broker: str | None = None
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in brokers and brokers[sample.name] in sample.labels:
                    named_broker = named_broker or sample.labels[brokers[sample.name]]
                for index, rule in by_metric.get(sample.name, ()):
                    key = _key(rule, sample.labels, broker)
                    if key is None or sample.value != sample.value:  # no such label, or NaN
                        continue
                    fields = found.setdefault(key, {})
                    value = float(sample.value) * rule.scale
                    earlier = fields.get(rule.field)
                    if earlier is None or index < earlier[0]:
                        fields[rule.field] = (index, value)
                    elif index == earlier[0]:
                        fields[rule.field] = (index, earlier[1] + value)
    except ValueError as exc:
        raise PrometheusDecodeError(f"not Prometheus text exposition: {exc}") from exc
    dead = re.compile(rules.dead_letter_names) if rules.dead_letter_names else DEAD_LETTER_NAME
    samples: list[QueueSample] = []
    rejected: list[Rejected] = []
    for position, ((where, vhost, queue), fields) in enumerate(sorted(found.items())):
        values = {name: value for name, (_, value) in fields.items()}
        depth = values.get("depth")
        if depth is None and ("ready" in values or "unacked" in values):
            depth = values.get("ready", 0.0) + values.get("unacked", 0.0)
        if depth is None:
            rejected.append(Rejected(position, f"queue {queue!r}: no series gives its depth"))
            continue
        name_says = bool(dead.search(queue))
        samples.append(
            QueueSample(
                time_ns=time_ns,
                broker=named_broker if where == broker and named_broker else where,
                vhost=vhost,
                queue=queue,
                depth=int(depth),
                origin="prometheus",
                ready=_int(values.get("ready")),
                unacked=_int(values.get("unacked")),
                consumers=_int(values.get("consumers")),
                publish_rate=values.get("publish_rate"),
                deliver_rate=values.get("deliver_rate"),
                oldest_age_seconds=values.get("oldest_age_seconds"),
                dead_letter=name_says,
                attributes={"dead_letter_by": "name"} if name_says else {},
            )
        )
    return samples, rejected


def _key(rule: SeriesRule, labels: dict[str, str], broker: str) -> tuple[str, str, str] | None:
    try:
        queue = rule.queue.format_map(labels)
        vhost = rule.vhost.format_map(_Blank(labels))
        where = rule.broker.format_map(labels) if rule.broker else broker
    except KeyError:
        return None
    return (where, vhost, queue) if queue else None


class _Blank(dict[str, str]):
    """Labels where a missing one reads as "" (a vhost where the exporter has none)."""

    def __missing__(self, key: str) -> str:
        return ""


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)
