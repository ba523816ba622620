"""The queue poller: ask each configured broker and scrape target once, store the samples.

The I/O edge of the queue adapters: this module fetches the RabbitMQ management API
(/api/overview, /api/queues, /api/bindings) and Prometheus texts; adapters/rabbitmq.py and
adapters/prometheus.py turn them into samples. One target failing does not stop the others;
its error is logged and reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import orjson

from adapters.prometheus import PrometheusDecodeError, PrometheusRules, parse_metrics
from adapters.rabbitmq import RabbitMqDecodeError, parse_overview, parse_queues
from adapters.records import QueueSample
from queues import service
from tower.db import Store
from tower.settings import Settings

__all__ = ["PollReport", "PollTargets", "poll_rabbitmq", "run_once", "scrape_prometheus"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollTargets:
    """What to poll: management API base URLs, Prometheus endpoints, credentials."""

    rabbitmq: tuple[str, ...] = ()
    prometheus: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PollTargets:
        password = settings.rabbitmq_password
        return cls(
            rabbitmq=tuple(settings.rabbitmq_urls),
            prometheus=tuple(settings.prometheus_urls),
            username=settings.rabbitmq_username,
            password=password.get_secret_value() if password is not None else None,
            timeout=settings.queue_poll_timeout.total_seconds(),
        )

    def __bool__(self) -> bool:
        return bool(self.rabbitmq or self.prometheus)


@dataclass(slots=True)
class PollReport:
    """What one poll did."""

    samples: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # target -> what went wrong


def run_once(
    *,
    store: Store,
    targets: PollTargets,
    rules: PrometheusRules,
    now: datetime,
    client: httpx.Client | None = None,
) -> PollReport:
    """Poll every target once and store what they report, all with the time `now`."""
    report = PollReport()
    samples: list[QueueSample] = []
    own = client is None
    http = client or httpx.Client(timeout=targets.timeout)
    auth = (targets.username, targets.password or "") if targets.username else None
    try:
        for url in targets.rabbitmq:
            try:
                samples += poll_rabbitmq(client=http, url=url, now=now, auth=auth)
            except (httpx.HTTPError, RabbitMqDecodeError) as exc:
                report.errors[_safe(url)] = str(exc)
        for url in targets.prometheus:
            try:
                samples += scrape_prometheus(client=http, url=url, rules=rules, now=now)
            except (httpx.HTTPError, PrometheusDecodeError) as exc:
                report.errors[_safe(url)] = str(exc)
    finally:
        if own:
            http.close()
    for target, error in report.errors.items():
        log.warning("queue poll of %s failed: %s", target, error)
    service.store_samples(store=store, samples=samples, received_at=now)
    report.samples = len(samples)
    return report


def poll_rabbitmq(
    *, client: httpx.Client, url: str, now: datetime, auth: tuple[str, str] | None = None
) -> list[QueueSample]:
    """One sample per queue of the RabbitMQ whose management API is at `url`."""
    base = url.rstrip("/")

    def get(path: str) -> bytes:
        response = client.get(base + path, auth=auth) if auth else client.get(base + path)
        response.raise_for_status()
        return response.content

    broker = parse_overview(get("/api/overview")).cluster_name or _host(url)
    try:  # bindings say where dead-letter exchanges route; without them, names must do
        doc = orjson.loads(get("/api/bindings"))
    except (httpx.HTTPStatusError, orjson.JSONDecodeError) as exc:
        log.info("RabbitMQ %s: no bindings (%s); dead letters judged without them", broker, exc)
        doc = []
    bindings = [b for b in doc if isinstance(b, dict)] if isinstance(doc, list) else []
    samples, rejected = parse_queues(
        get("/api/queues"), time_ns=_ns(now), broker=broker, bindings=bindings
    )
    for item in rejected:
        log.warning("RabbitMQ %s: /api/queues item %d: %s", broker, item.index, item.reason)
    return samples


def scrape_prometheus(
    *, client: httpx.Client, url: str, rules: PrometheusRules, now: datetime
) -> list[QueueSample]:
    """The queue samples one Prometheus endpoint's text gives."""
    response = client.get(url, headers={"Accept": "text/plain; version=0.0.4"})
    response.raise_for_status()
    samples, rejected = parse_metrics(
        response.text, rules=rules, time_ns=_ns(now), broker=_host(url)
    )
    for item in rejected:
        log.warning("scrape of %s: %s", _safe(url), item.reason)
    return samples


def _host(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


def _safe(url: str) -> str:
    """The URL without credentials, for logs and reports."""
    return str(httpx.URL(url).copy_with(username=None, password=None))


def _ns(when: datetime) -> int:
    return int(when.timestamp()) * 10**9 + when.microsecond * 1000
