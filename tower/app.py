"""Wires the tower into one ASGI app: storage, the writer, the routers, the scheduler."""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.trace.export import SpanExporter
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

import alerts.api
import collector.api
import collector.edi_api
import collector.logs_api
import collector.otlp_api
import collector.webhooks_api
import correlator.api
import exceptions.api
import queues.api
import sla.api
import tower.access.api
import tower.access.login
import tower.access.users_api
import tower.backup_api
from adapters.derive import load_otlp_rules
from adapters.logs import load_log_rules
from adapters.mapping_files import load_mappings
from adapters.prometheus import PrometheusRules, load_prometheus_rules
from adapters.registry import build_registry
from alerts import jobs as alert_jobs
from alerts.models import AlertingConfig, load_alerting
from collector.metrics import IngestMetrics
from collector.pipeline import Collector
from collector.redaction import Redactor, load_redaction
from collector.telemetry import Telemetry
from collector.writer import CommitStats, Writer
from correlator import jobs as correlator_jobs
from correlator.models import ModelSet, load_models
from dashboards import Ui
from exceptions import jobs as exception_jobs
from exceptions import replay as replay_settings
from exceptions.routing import load_routing
from exceptions.timeline import writer_sink
from queues import jobs as queue_jobs
from sla.jobs import stages_of
from sla.models import SlaFile, load_slas
from tower.access.keys import KeyStore
from tower.access.login import RequireLogin
from tower.access.middleware import RequireApiKey
from tower.access.users import UserStore
from tower.checkpoints import CheckpointPolicy, checkpoint_job
from tower.clock import Clock, utc_now
from tower.db import Store
from tower.exceptions import StorageError, TowerError
from tower.model import Event, RelatedObject
from tower.retention.jobs import Policy
from tower.retention.jobs import run_once as retention_run_once
from tower.secrets import installation_secret
from tower.selfobs import Health
from tower.selfobs import start as start_selfobs
from tower.selfobs.jobs import sample_job, watch_jobs
from tower.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)
# FastAPI (0.16x) traces every request through the global tracer provider once one is set. The
# tower's own spans are per batch and per run (tower/selfobs); request spans would add cost on
# the ingest path, and with the tower as its own OTLP endpoint each export would make the span
# that the next export carries, for ever. Older FastAPI has no such option.
NO_NATIVE_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters
    else {}
)


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    span_exporters: Sequence[SpanExporter] = (),
    metric_readers: Sequence[MetricReader] = (),
) -> FastAPI:
    """The tower as an ASGI app. Nothing starts until the app's lifespan begins.

    `span_exporters` and `metric_readers` also receive the tower's own spans and metrics (tests).
    """
    registry = CollectorRegistry()
    metrics = IngestMetrics(registry)
    models = load_models(settings.journey_models_dir)  # a bad model file fails here, at start
    stages = stages_of(models)
    slas = load_slas(settings.sla_file, stages=stages)  # so does a bad SLA or alerting file
    alerting = load_alerting(settings.alerts_file)
    adapters = build_registry(
        otlp_rules=load_otlp_rules(settings.otlp_rules_path),
        log_rules=load_log_rules(settings.log_rules_path),
    )
    prometheus_rules = load_prometheus_rules(settings.prometheus_rules_path)
    webhook_mappings = load_mappings(settings.webhook_mappings_dir)  # a bad mapping fails here
    redaction = load_redaction(settings.redaction_file)
    retention_policy = Policy(
        events=settings.retention_events,
        telemetry=settings.retention_telemetry,
        queue_samples=settings.retention_queue_samples,
        rejects=settings.retention_rejects,
        history=settings.retention_history,
    )
    poll_targets = queue_jobs.PollTargets.from_settings(settings)
    exceptions_config = exception_jobs.ExceptionsConfig.from_settings(
        settings,
        routing=load_routing(settings.exceptions_routing_path),  # a bad rule fails here
        log_rules=load_log_rules(settings.log_rules_path),
    )
    ui = Ui(zones=settings.facility_zones, refresh=settings.ui_refresh, models=models)
    checkpoint_policy = CheckpointPolicy(
        wal_bytes=settings.checkpoint_wal_bytes,
        wal_max_bytes=settings.checkpoint_wal_max_bytes,
        quiet_seconds=settings.checkpoint_quiet.total_seconds(),
    )
    bootstrap_key = (
        settings.bootstrap_admin_key.get_secret_value() if settings.bootstrap_admin_key else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(
            settings.db_path,
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
        )

        def on_commit(stats: CommitStats) -> None:
            metrics.on_commit(stats)
            obs.monitor.committed(clock())  # defined below, before the writer starts

        writer = Writer(
            store,
            max_queued_events=settings.writer_queue_max_events,
            max_commit_events=settings.commit_max_events,
            retry_after_seconds=settings.retry_after_seconds,
            on_commit=on_commit,
        )
        obs = start_selfobs(
            settings,
            store=store,
            writer=writer,
            clock=clock,
            registry=registry,
            span_exporters=span_exporters,
            extra_metric_readers=metric_readers,
        )
        app.state.selfobs = obs
        writer.start()
        metrics.queue_depth.set_function(lambda: writer.queued_events)
        app.state.store = store
        app.state.clock = clock
        app.state.backup_dir = settings.backup_dir or settings.db_path.parent / "backups"
        app.state.archive_dir = settings.archive_dir or settings.db_path.parent / "archive"
        app.state.keys = KeyStore(store, bootstrap_key=bootstrap_key, clock=clock)
        app.state.users = UserStore(
            store,
            session_key=installation_secret(store, "session_key"),
            session_seconds=settings.ui_session.total_seconds(),
            clock=clock,
        )
        redactor = Redactor(redaction, salt=installation_secret(store, "pii_salt"))
        app.state.redactor = redactor
        ui.open(store=store, clock=clock)  # the dashboards read the same store
        app.state.sla_definitions = slas
        app.state.alerting = alerting  # GET /api/v1/alerts marks inhibited alerts with its rules
        app.state.prometheus_rules = prometheus_rules
        app.state.exceptions = exceptions_config
        # replays (API and Exceptions page) publish through these, and show on the journeys
        replay_settings.attach(
            store,
            dataclasses.replace(
                exceptions_config.replay,
                events=writer_sink(store=store, writer=writer, clock=clock),
            ),
        )
        app.state.collector = Collector(
            store=store,
            writer=writer,
            metrics=metrics,
            max_body_bytes=settings.max_body_bytes,
            clock=clock,
            on_batch=obs.metrics.batch,
            redactor=redactor,
        )
        app.state.telemetry = Telemetry(
            store=store,
            writer=writer,
            registry=adapters,
            max_body_bytes=settings.max_body_bytes,
            max_inflight=settings.telemetry_max_inflight,
            clock=clock,
            redactor=redactor,
        )
        # APScheduler logs two INFO lines per run: every 2 s with the correlator. Keep warnings.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            checkpoint_job,
            "interval",
            args=[store, checkpoint_policy, lambda: writer.idle_seconds],
            seconds=settings.checkpoint_every.total_seconds(),
            id="checkpoint",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            _correlate,
            "interval",
            args=[store, models, settings.correlate_batch],
            seconds=settings.correlate_every.total_seconds(),
            id="correlate",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            _alerts_cycle,
            "interval",
            args=[store, slas, stages, alerting, clock],
            seconds=settings.sla_every.total_seconds(),
            id="sla_alerts",
            max_instances=1,
            coalesce=True,
        )
        if poll_targets:  # off unless brokers or scrape targets are configured
            scheduler.add_job(
                _poll_queues,
                "interval",
                args=[store, poll_targets, prometheus_rules, clock],
                seconds=settings.queue_poll_every.total_seconds(),
                id="queues",
                max_instances=1,
                coalesce=True,
            )
        scheduler.add_job(
            _exceptions,
            "interval",
            args=[store, exceptions_config, clock],
            seconds=settings.exceptions_every.total_seconds(),
            id="exceptions",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            _retention,
            "interval",
            args=[store, retention_policy, app.state.archive_dir, clock],
            seconds=settings.retention_every.total_seconds(),
            id="retention",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            app.state.keys.flush_usage, "interval", seconds=60, id="api_key_usage", coalesce=True
        )
        scheduler.add_job(
            sample_job,
            "interval",
            args=[store, obs.monitor, clock, settings.selfobs_keep],
            seconds=settings.selfobs_sample_every.total_seconds(),
            id="selfobs_sample",
            max_instances=1,
            coalesce=True,
        )
        watch_jobs(scheduler, obs.jobs)  # every job's runs recorded, for health
        app.state.scheduler = scheduler
        scheduler.start()
        log.info(
            "tower ready: db=%s schema=%d events up to seq %d",
            settings.db_path,
            store.schema_version,
            writer.last_seq,
        )
        try:
            yield
        finally:
            ui.close()
            scheduler.shutdown(wait=True)
            obs.stop()  # a last export of the tower's own spans and metrics
            writer.stop()
            store.close()

    app = FastAPI(
        title="Control Tower",
        version="0.1.0",
        summary="Every order and stock hop across ERP, WMS, OMS, EDI and middleware.",
        lifespan=lifespan,
        **NO_NATIVE_TELEMETRY,
    )
    app.include_router(collector.api.router)
    app.include_router(correlator.api.router)
    app.include_router(sla.api.router)
    app.include_router(alerts.api.router)
    app.include_router(collector.otlp_api.router)
    app.include_router(collector.logs_api.router)
    app.include_router(queues.api.router)
    app.include_router(collector.edi_api.router)
    app.include_router(collector.webhooks_api.router)
    app.include_router(exceptions.api.router)
    app.state.webhook_mappings = webhook_mappings
    app.include_router(tower.access.api.router)
    app.include_router(tower.access.users_api.router)
    app.include_router(tower.access.login.router)
    app.include_router(tower.backup_api.router)
    app.add_middleware(RequireApiKey, enabled=settings.auth_required)
    app.add_middleware(RequireLogin, enabled=settings.auth_required)
    app.mount("/ui", ui, name="ui")  # Dash (WSGI) in a thread pool: dashboards/mount.py

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return JSONResponse(
            {
                "error": "invalid_request",
                "detail": f"{where}: {first['msg']}" if where else first["msg"],
                "errors": jsonable_encoder(errors),
            },
            status_code=422,
        )

    @app.exception_handler(TowerError)
    async def tower_error(_: Request, exc: TowerError) -> JSONResponse:
        if exc.status_code >= 500:
            log.error("%s: %s", exc.code, exc.detail)
        headers = exc.headers
        if exc.status_code == 503 and "Retry-After" not in headers:
            # a failed write (disk full, I/O error) may pass: tell clients when to try again
            headers = {**headers, "Retry-After": str(settings.retry_after_seconds)}
        return JSONResponse(
            {"error": exc.code, "detail": exc.detail},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.get(
        "/api/v1/health",
        tags=["operations"],
        response_model=Health,
        responses={503: {"model": Health, "description": "A part is failing (see parts)."}},
    )
    def health(request: Request, response: Response) -> Health:
        """Each part (writer, correlator, jobs, receivers, storage) with its lag and last success.

        503 when any part is failing, so a load balancer or a Kubernetes probe can act.
        """
        state = request.app.state
        report: Health = state.selfobs.monitor.health(
            now=state.clock(),
            schema_version=state.store.schema_version,
            scheduler_running=state.scheduler.running,
        )
        if report.status != "ok":
            response.status_code = 503
        return report

    @app.get("/metrics", tags=["operations"], include_in_schema=True)
    def prometheus_metrics() -> Response:
        """Prometheus text exposition of the tower's own figures."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    def openapi() -> dict[str, Any]:
        # The ingest route reads its raw body (NDJSON, gzip), so FastAPI cannot see the Event
        # schema; publish it under components so the request body's $ref resolves.
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (Event, RelatedObject):
                definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(definition.pop("$defs", {}))
                components[model.__name__] = definition
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _retention(store: Store, policy: Policy, archive_dir: Path, clock: Clock) -> None:
    try:
        retention_run_once(store=store, policy=policy, archive_dir=archive_dir, now=clock())
    except StorageError:
        log.warning("retention run failed; the next run retries", exc_info=True)
        raise  # for the job's record (tower/selfobs/jobs.py): health counts failed runs


def _correlate(store: Store, models: ModelSet, batch_size: int) -> None:
    try:
        correlator_jobs.run_while_behind(store=store, models=models, batch_size=batch_size)
    except StorageError:
        log.warning("correlator run failed; the next run retries from the watermark", exc_info=True)
        raise  # for the job's record (tower/selfobs/jobs.py): health counts failed runs


def _alerts_cycle(
    store: Store,
    slas: SlaFile,
    stages: dict[str, list[str]],
    alerting: AlertingConfig,
    clock: Clock,
) -> None:
    try:
        alert_jobs.run_once(
            store=store, definitions=slas, stages=stages, config=alerting, now=clock()
        )
    except StorageError:
        log.warning("SLA/alert cycle failed; the next run evaluates afresh", exc_info=True)
        raise  # for the job's record (tower/selfobs/jobs.py): health counts failed runs


def _poll_queues(
    store: Store, targets: queue_jobs.PollTargets, rules: PrometheusRules, clock: Clock
) -> None:
    try:
        queue_jobs.run_once(store=store, targets=targets, rules=rules, now=clock())
    except StorageError:
        log.warning("queue poll could not store its samples; the next poll retries", exc_info=True)
        raise  # for the job's record (tower/selfobs/jobs.py): health counts failed runs


def _exceptions(store: Store, config: exception_jobs.ExceptionsConfig, clock: Clock) -> None:
    try:
        exception_jobs.run_once(store=store, config=config, now=clock())
    except StorageError:
        log.warning("exceptions run failed; the next run carries on", exc_info=True)
        raise  # for the job's record (tower/selfobs/jobs.py): health counts failed runs
