"""The tower's settings: one class, read once at start (env prefix TOWER_), then passed in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tower.durations import Duration

MiB = 1024 * 1024


class Settings(BaseSettings):
    """Everything an operator can tune. Each field is also TOWER_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="TOWER_", env_file=None, extra="ignore")

    db_path: Path = Field(Path("data/tower.duckdb"), description="The embedded DuckDB file.")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    max_body_bytes: int = Field(16 * MiB, description="Larger request bodies get 413.")
    writer_queue_max_events: int = Field(
        800_000, description="Events waiting for commit before ingest answers 429."
    )
    commit_max_events: int = Field(50_000, description="Most events one group commit takes.")
    retry_after_seconds: int = Field(1, description="Retry-After sent with 429 and 503.")

    checkpoint_every: Duration = Field(
        timedelta(seconds=1), description="How often the background checkpoint job looks."
    )
    checkpoint_wal_bytes: int = Field(
        64 * MiB,
        description="The background job checkpoints once the WAL is this big and ingest is quiet.",
    )
    checkpoint_wal_max_bytes: int = Field(
        1024 * MiB, description="The background job checkpoints at this WAL size even when busy."
    )
    checkpoint_quiet: Duration = Field(
        timedelta(seconds=2), description="How long without a commit counts as quiet ingest."
    )
    correlate_every: Duration = Field(
        timedelta(seconds=2), description="How often the correlator stitches new events."
    )
    correlate_batch: int = Field(
        800_000, description="Most events one correlator run takes (a tick runs more while behind)."
    )
    journey_models_dir: Path | None = Field(
        None, description="A folder of journey model YAML files overriding the shipped ones."
    )
    sla_every: Duration = Field(
        timedelta(seconds=15), description="How often SLAs are evaluated and alerts advanced."
    )
    sla_file: Path | None = Field(
        None, description="SLA/SLO definitions (YAML) replacing the shipped sla/defaults.yaml."
    )
    alerts_file: Path | None = Field(
        None, description="Alert routing and receivers (YAML); none: alerts are not sent."
    )
    duckdb_memory_limit: str | None = Field(None, description="e.g. '4GB'; DuckDB's default else.")
    duckdb_threads: int | None = Field(None, description="DuckDB threads; all cores when unset.")
    otlp_rules_path: Path | None = Field(
        None, description="OTLP attribute rules YAML replacing adapters/rules/otlp.yaml."
    )
    log_rules_path: Path | None = Field(
        None, description="Log extractor YAML replacing adapters/rules/logs.yaml."
    )
    rabbitmq_urls: list[str] = Field(
        default_factory=list,
        description="RabbitMQ management API base URLs to poll, e.g. http://mq-1:15672 (a JSON "
        "list in the environment); none: no polling.",
    )
    rabbitmq_username: str | None = Field(None, description="Management API user (monitoring).")
    rabbitmq_password: SecretStr | None = Field(None, description="Management API password.")
    prometheus_urls: list[str] = Field(
        default_factory=list,
        description="Prometheus endpoints to scrape for queue metrics (RabbitMQ's plugin, Kafka "
        "lag exporters), a JSON list in the environment; none: no scraping.",
    )
    prometheus_rules_path: Path | None = Field(
        None, description="Prometheus queue rules YAML replacing adapters/rules/prometheus.yaml."
    )
    webhook_mappings_dir: Path | None = Field(
        None,
        description="A folder of webhook mapping YAML files added to the shipped "
        "adapters/webhooks (same name: the folder's wins).",
    )
    queue_poll_every: Duration = Field(
        timedelta(seconds=15), description="How often brokers and scrape targets are polled."
    )
    queue_poll_timeout: Duration = Field(
        timedelta(seconds=10), description="Longest wait for one broker or scrape target."
    )
    otlp_port: int | None = Field(
        None,
        description="A second port serving only OTLP/HTTP (/v1/*), 4318 by convention; "
        "`tower serve` listens there too.",
    )
    telemetry_max_inflight: int = Field(
        16, description="Telemetry requests stored at once before OTLP answers 429."
    )
    facility_zones: dict[str, str] = Field(
        default_factory=lambda: {
            "DC-EAST": "America/New_York",
            "DC-WEST": "America/Los_Angeles",
            "DC-EU": "Europe/Amsterdam",
        },
        description="Facility code -> IANA time zone, for local times on the dashboards (JSON "
        "in the environment); the default names the demo estate's sites.",
    )
    ui_refresh: Duration = Field(
        timedelta(seconds=30), description="How often the dashboards at /ui refresh their data."
    )
    # -- the tower watching itself (tower/selfobs, docs/operations.md "Watching the tower itself")
    telemetry: Literal["off", "console", "otlp"] = Field(
        "off",
        description="Where the tower's own spans and metrics go: nowhere, stdout, or OTLP/HTTP "
        "to telemetry_endpoint.",
    )
    telemetry_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP base URL (…/v1/traces and …/v1/metrics are appended); unset: the "
        "tower's own receiver at http://host:port, so it is its own first source.",
    )
    telemetry_export_every: Duration = Field(
        timedelta(seconds=30), description="How often the tower's own metrics are exported."
    )
    telemetry_service_name: str = Field(
        "control-tower", description="service.name of the tower's own spans and metrics."
    )
    health_correlator_max_lag: Duration = Field(
        timedelta(minutes=5),
        description="Health fails when the oldest event not yet stitched has waited longer.",
    )
    health_job_missed_intervals: int = Field(
        3, ge=1, description="Health fails for a job with no success for this many intervals."
    )
    health_job_grace: Duration = Field(
        timedelta(minutes=1),
        description="...but never sooner than this after its last success (fast jobs).",
    )
    health_min_disk_free: float = Field(
        0.05, ge=0, le=1, description="Health fails when the database's disk has less free."
    )
    health_receiver_window: Duration = Field(
        timedelta(minutes=15),
        description="A receiver fails health when its latest attempt in this window failed.",
    )
    selfobs_sample_every: Duration = Field(
        timedelta(minutes=1), description="How often the tower's figures go to its history."
    )
    selfobs_keep: Duration = Field(
        timedelta(days=7), description="How long the tower keeps the history of its figures."
    )
    exceptions_routing_path: Path | None = Field(
        None, description="Exception routing rules YAML replacing exceptions/routing.yaml."
    )
    exceptions_every: Duration = Field(
        timedelta(seconds=15),
        description="How often error events and dead-letter queues become exceptions.",
    )
    dead_letter_queues: list[str] = Field(
        default_factory=list,
        description="Dead-letter queues to read on every RabbitMQ of TOWER_RABBITMQ_URLS, as "
        "'vhost/queue' with the vhost URL-encoded ('%2F/orders.dlq'), a JSON list.",
    )
    dead_letter_peek: int = Field(
        500, ge=1, description="Most messages read (and put back) from one dead-letter queue."
    )
    replay_rate_per_second: float = Field(
        20.0, gt=0, description="Most messages a replay publishes per second."
    )
    replay_max_messages: int = Field(1000, ge=1, description="Most messages one replay takes.")
    replay_plan_ttl: Duration = Field(
        timedelta(minutes=10), description="How long a replay plan waits for its confirmation."
    )
    replay_remove_from_queue: bool = Field(
        True, description="Take replayed messages out of their dead-letter queue (safely)."
    )
    auth_required: bool = Field(
        True,
        description="Every /api/v1 and OTLP request needs an API key with the right scope "
        "(docs/security.md). Turn off only on a closed network.",
    )
    bootstrap_admin_key: SecretStr | None = Field(
        None,
        min_length=24,
        description="An admin key accepted as-is, for the first start: create real keys with "
        "it (`tower keys create`), then remove it. At least 24 characters.",
    )
    redaction_file: Path | None = Field(
        None,
        description="PII redaction rules (YAML) replacing the shipped collector/redaction.yaml; "
        "`rules: []` turns redaction off.",
    )
    ui_session: Duration = Field(
        timedelta(hours=12), description="How long a dashboard sign-in lasts before asking again."
    )
    backup_dir: Path | None = Field(
        None, description="Where `tower backup` writes; a backups/ folder beside db_path if unset."
    )
    retention_events: Duration = Field(
        timedelta(days=90),
        description="Raw events older than this, of journeys idle as long, move to Parquet.",
    )
    retention_telemetry: Duration = Field(
        timedelta(days=14), description="Spans and log records move to Parquet; metric points go."
    )
    retention_queue_samples: Duration = Field(
        timedelta(days=14), description="Queue samples older than this are deleted."
    )
    retention_rejects: Duration = Field(
        timedelta(days=30), description="Refused items older than this are deleted."
    )
    retention_history: Duration = Field(
        timedelta(days=400), description="Alert history and delivery attempts are kept this long."
    )
    retention_every: Duration = Field(
        timedelta(hours=1), description="How often the retention job runs."
    )
    archive_dir: Path | None = Field(
        None, description="Where old data goes as Parquet; an archive/ folder beside db_path."
    )
