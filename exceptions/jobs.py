"""The exceptions job: error events, rejects, alerts and dead letters become exceptions.

One run reads the error events committed since the last run (a watermark), the collector
rejects and fired alerts not yet recorded, and peeks at every
configured dead-letter queue on every configured RabbitMQ (messages are put back, never
consumed). A broker or queue failing does not stop the others; its error is reported.
"""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from adapters.logs import LogRules
from exceptions import service, sources
from exceptions.deadletters import DeadLetter, parse_messages, peek
from exceptions.queries import LANE, SQL
from exceptions.replay import ReplayConfig
from exceptions.routing import Failure, RoutingRules
from exceptions.service import Occurrence
from tower.db import Store
from tower.settings import Settings

__all__ = ["DeadLetterQueue", "ExceptionsConfig", "RunReport", "run_once"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeadLetterQueue:
    vhost: str
    queue: str

    @classmethod
    def parse(cls, text: str) -> DeadLetterQueue:
        """'%2F/orders.dlq' (vhost URL-encoded, as in the management API's paths) or a name."""
        vhost, sep, queue = text.partition("/")
        if not sep:
            return cls(vhost="/", queue=text)
        if not queue:
            raise ValueError(f"dead-letter queue {text!r}: no queue name after the vhost")
        return cls(vhost=urllib.parse.unquote(vhost), queue=queue)


@dataclass(frozen=True, slots=True)
class ExceptionsConfig:
    """Everything the job and the API need, built once from the settings."""

    routing: RoutingRules
    log_rules: LogRules
    brokers: tuple[str, ...] = ()  # management API base URLs, without credentials
    queues: tuple[DeadLetterQueue, ...] = ()
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    peek_count: int = 500
    event_batch: int = 10_000

    @classmethod
    def from_settings(
        cls, settings: Settings, *, routing: RoutingRules, log_rules: LogRules
    ) -> ExceptionsConfig:
        auth = None
        if settings.rabbitmq_username:
            password = settings.rabbitmq_password
            auth = (settings.rabbitmq_username, password.get_secret_value() if password else "")
        brokers = []
        for url in settings.rabbitmq_urls:
            parsed = httpx.URL(url)
            if parsed.username and auth is None:
                auth = (parsed.username, parsed.password or "")
            brokers.append(str(parsed.copy_with(username=None, password=None)).rstrip("/"))
        if settings.dead_letter_queues and not brokers:
            log.warning("dead-letter queues are set but no TOWER_RABBITMQ_URLS: none is read")
        return cls(
            routing=routing,
            log_rules=log_rules,
            brokers=tuple(brokers),
            queues=tuple(DeadLetterQueue.parse(q) for q in settings.dead_letter_queues),
            replay=ReplayConfig(
                auth=auth,
                rate_per_second=settings.replay_rate_per_second,
                max_messages=settings.replay_max_messages,
                plan_ttl=settings.replay_plan_ttl,
                timeout=settings.queue_poll_timeout.total_seconds(),
                remove_after_replay=settings.replay_remove_from_queue,
                rules=log_rules,
                actions=tuple(routing.replay_actions),
            ),
            peek_count=settings.dead_letter_peek,
        )


@dataclass(slots=True)
class RunReport:
    """What one run did."""

    error_events: int = 0
    rejects: int = 0
    alerts: int = 0
    dead_letters: int = 0
    opened: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # broker/vhost/queue -> what failed


def run_once(
    *,
    store: Store,
    config: ExceptionsConfig,
    now: datetime,
    client: httpx.Client | None = None,
) -> RunReport:
    """Turn new error events and the dead-letter queues' contents into exceptions."""
    report = RunReport()
    with store.job_lock("exceptions"):
        _error_events(store, config, now, report)
        _held(store, config, now, report)
        if config.brokers and config.queues:
            own = client is None
            http = client or httpx.Client(timeout=config.replay.timeout)
            try:
                for broker in config.brokers:
                    for dlq in config.queues:
                        _dead_letters(store, config, http, broker, dlq, now, report)
            finally:
                if own:
                    http.close()
    for where, error in report.errors.items():
        log.warning("dead-letter poll of %s failed: %s", where, error)
    return report


def _error_events(store: Store, config: ExceptionsConfig, now: datetime, report: RunReport) -> None:
    after = store.scalar(SQL["watermark"], doing="reading the exceptions watermark")
    upto = store.scalar(SQL["newest_seq"], doing="reading the newest event")
    rows = store.query(
        SQL["error_events"],
        {"after": after, "upto": upto, "limit": config.event_batch},
        doing="reading error events",
    )
    # a full batch stops at its last event; the next run carries on from there
    watermark = rows[-1]["seq"] if len(rows) == config.event_batch else upto
    occurrences = [sources.event_occurrence(row) for row in rows]
    recorded = service.record(store=store, occurrences=occurrences, rules=config.routing, now=now)
    with store.transaction(doing="advancing the exceptions watermark", lane=LANE) as con:
        con.execute(SQL["set_watermark"], {"v": watermark})
    report.error_events = len(rows)
    report.opened += recorded.opened
    report.reopened += recorded.reopened


def _held(store: Store, config: ExceptionsConfig, now: datetime, report: RunReport) -> None:
    """Collector rejects and fired alerts not yet recorded."""
    rejects = sources.reject_occurrences(store=store, now=now, limit=config.event_batch)
    alerts = sources.alert_occurrences(store=store)
    recorded = service.record(
        store=store, occurrences=rejects + alerts, rules=config.routing, now=now
    )
    report.rejects, report.alerts = len(rejects), len(alerts)
    report.opened += recorded.opened
    report.reopened += recorded.reopened


def _dead_letters(
    store: Store,
    config: ExceptionsConfig,
    http: httpx.Client,
    broker: str,
    dlq: DeadLetterQueue,
    now: datetime,
    report: RunReport,
) -> None:
    where = f"{broker} {dlq.vhost} {dlq.queue}"
    try:
        doc = peek(
            client=http,
            url=broker,
            vhost=dlq.vhost,
            queue=dlq.queue,
            count=config.peek_count,
            auth=config.replay.auth,
        )
    except (httpx.HTTPError, ValueError) as exc:
        report.errors[where] = str(exc)
        return
    letters, refused = parse_messages(
        doc, broker=broker, vhost=dlq.vhost, queue=dlq.queue, rules=config.log_rules
    )
    for item in refused:
        log.warning("dead letter %d of %s unreadable: %s", item.index, where, item.reason)
    recorded = service.record(
        store=store,
        occurrences=[_letter_occurrence(letter, now) for letter in letters],
        rules=config.routing,
        now=now,
    )
    service.store_dead_letters(
        store=store,
        broker=broker,
        vhost=dlq.vhost,
        queue=dlq.queue,
        letters=letters,
        exception_of=recorded.exception_of,
        now=now,
    )
    report.dead_letters += len(letters)
    report.opened += recorded.opened
    report.reopened += recorded.reopened


def _letter_occurrence(letter: DeadLetter, now: datetime) -> Occurrence:
    origin_queue = letter.from_queue or letter.queue
    return Occurrence(
        ref=f"dl:{letter.message_ref}",
        failure=Failure(
            origin="dead_letter",
            source=f"rabbitmq:{origin_queue}",
            error=letter.error,
            place=letter.queue,
            facility=letter.facility,
            partner=letter.partner,
            object_type=letter.object_type,
        ),
        occurred_at=letter.died_at or now,
        title=f"Dead letters from {origin_queue} in {letter.queue} ({letter.reason})",
        keys=letter.keys,
        correlation_id=letter.correlation_id,
        detail={
            "message_id": letter.message_id,
            "queue": letter.queue,
            "exchange": letter.exchange,
            "routing_key": letter.routing_key,
            "deaths": letter.deaths,
        },
    )
