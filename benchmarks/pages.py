"""Dashboard pages benchmark: server time of every page's callbacks on a large store.

The store (1 M journeys and 20 M events by default, 30 days of them) is built with bulk SQL
(generate_series) straight into a DuckDB file under benchmarks/out and reused by later runs
of the same size. Each page's callbacks are then called as the browser calls them on a page
load: a POST to Dash's /_dash-update-component through the Flask test client, in process, so
the figure is the server's own time (queries, figures, JSON) without network or browser.
Goal: every callback <= 1 s. Each is called once cold and RUNS times warm; the figure judged
is the slowest warm call. Beside wall time the process's CPU time per call is shown (every
thread, DuckDB's included): on a machine shared with other work wall time is mostly waiting
for a core, and CPU time says what the callback itself costs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from tower.db import Store

__all__ = ["GOAL_SECONDS", "PagesRun", "build_store", "run", "table"]

log = logging.getLogger(__name__)

GOAL_SECONDS = 1.0
RUNS = 3
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAYS = 30
VERSION = 1  # bump when the generated data changes, so old cache files are rebuilt

# kind -> (share of journeys in twentieths, main-line stages, the system of each stage)
LINES: dict[str, tuple[int, list[str], list[str]]] = {
    "order": (
        12,
        ["received", "validated", "accepted", "allocated", "picked", "packed", "shipped",
         "delivered", "invoiced", "closed"],
        ["oms", "oms", "erp", "erp", "wms", "wms", "wms", "carrier", "erp", "erp"],
    ),
    "shipment": (3, ["created", "shipped", "in_transit", "delivered"],
                 ["wms", "wms", "carrier", "carrier"]),
    "invoice": (2, ["posted", "paid"], ["erp", "erp"]),
    "inventory": (2, ["adjusted", "published", "posted", "channel_published"],
                  ["wms", "middleware", "erp", "channel"]),
    "purchase_order": (
        1,
        ["created", "sent", "acknowledged", "asn", "received", "invoiced", "matched"],
        ["erp", "edi", "edi", "edi", "wms", "edi", "erp"],
    ),
}  # fmt: skip
FACILITIES = ("DC-EAST", "DC-WEST", "DC-EU")
QUEUES = ("orders.{f}.in", "orders.{f}.in.dlq", "picks.{f}", "inventory.{f}.out")
SHARED_QUEUES = ("orders.oms-to-erp", "orders.oms-to-erp.dlq", "inventory.erp-to-channels")


@dataclass(slots=True)
class Timing:
    page: str
    callback: str
    cold: float
    warm: list[float]
    cpu: list[float]

    @property
    def worst(self) -> float:
        return max(self.warm)


@dataclass(slots=True)
class PagesRun:
    journeys: int
    events: int
    build_seconds: float | None
    timings: list[Timing] = field(default_factory=list)

    def figures(self) -> dict[str, object]:
        return {
            "journeys": self.journeys,
            "events": self.events,
            "build_seconds": self.build_seconds,
            "goal_seconds": GOAL_SECONDS,
            "callbacks": [
                {
                    "page": t.page,
                    "callback": t.callback,
                    "cold_s": round(t.cold, 3),
                    "warm_s": [round(w, 3) for w in t.warm],
                    "warm_cpu_s": [round(c, 3) for c in t.cpu],
                    "ratio_to_goal": round(t.worst / GOAL_SECONDS, 3),
                }
                for t in self.timings
            ],
        }


# -- the store -------------------------------------------------------------------------------


def _lines_sql() -> tuple[str, dict[str, Any]]:
    """A VALUES list of the journey kinds, the i % 20 range each takes, and their lines."""
    rows: list[str] = []
    params: dict[str, Any] = {}
    lo = 0
    for n, (kind, (share, stages, systems)) in enumerate(LINES.items()):
        rows.append(f"($k{n}, $lo{n}, $hi{n}, $st{n}, $sy{n})")
        params |= {f"k{n}": kind, f"lo{n}": lo, f"hi{n}": lo + share}
        params |= {f"st{n}": stages, f"sy{n}": systems}
        lo += share
    return "VALUES " + ", ".join(rows), params


def build_store(path: Path, *, journeys: int, events: int) -> None:
    """Fill a new store at `path` with `journeys` journeys and `events` events (bulk SQL)."""
    per = max(events // journeys, 1)
    store = Store(path)  # applies the migrations
    try:
        values, params = _lines_sql()
        with store.transaction(doing="building the pages benchmark store", lane="bench") as con:
            # kind of journey i: by i % 20, in the shares of LINES (orders are 0-11)
            con.execute(
                f"CREATE TEMP TABLE kinds AS SELECT * FROM ({values}) AS t(kind, lo, hi, stages, "
                "systems)",
                params,
            )
            con.execute(
                """CREATE TEMP TABLE base AS
                SELECT i AS journey_id, k.kind, k.stages, k.systems,
                    $now - to_microseconds(CAST(($n - i) * ($days * 86400000000 / $n) AS BIGINT))
                        AS started_at,
                    hash(i) AS h
                FROM range(0, $n) AS r(i)
                JOIN kinds AS k ON i % 20 >= k.lo AND i % 20 < k.hi""",
                {"now": NOW, "n": journeys, "days": DAYS},
            )
            # done when older than two days (2 % failed); newer ones are open part-way
            con.execute(
                """CREATE TEMP TABLE shaped AS
                SELECT *,
                    CASE WHEN started_at < $now - INTERVAL 2 DAY
                        THEN (CASE WHEN h % 50 = 0 THEN 'failed' ELSE 'done' END)
                        ELSE 'open' END AS state,
                    CASE WHEN started_at < $now - INTERVAL 2 DAY THEN len(stages)
                        ELSE 1 + CAST(h % len(stages) AS INTEGER) END AS reached,
                    60 * (10 + CAST(h % 110 AS INTEGER)) AS step_s
                FROM base""",
                {"now": NOW},
            )
            con.execute(
                """INSERT INTO journey_hops
                SELECT journey_id, kind, $facilities[1 + journey_id % 3], CASE WHEN s > 1
                    THEN stages[s - 1] END, stages[s], CASE WHEN s > 1 THEN systems[s - 1] END,
                    systems[s], started_at + to_seconds((s - 1) * step_s),
                    CASE WHEN s > 1 THEN step_s::DOUBLE END
                FROM shaped, range(1, reached + 1) AS r(s)""",
                {"facilities": list(FACILITIES)},
            )
            con.execute(
                """INSERT INTO journeys
                SELECT journey_id, kind, label, '{"' || ns || '": ["' || id || '"]}',
                    stages[reached], started_at + to_seconds((reached - 1) * step_s),
                    started_at, started_at + to_seconds((reached - 1) * step_s), state,
                    CASE WHEN state = 'open' AND reached < len(stages) THEN stages[reached + 1]
                    END,
                    CASE WHEN state = 'open' THEN started_at + to_seconds(reached * step_s * 2)
                    END,
                    CASE WHEN state = 'open' THEN started_at + to_seconds(reached * step_s) END,
                    h % 97 = 0, $facilities[1 + journey_id % 3], 'CUST-' || (journey_id % 200),
                    $channels[1 + (journey_id // 3) % 3], (journey_id % 1000) + 0.5,
                    CASE WHEN journey_id % 3 = 2 THEN 'EUR' ELSE 'USD' END,
                    list_distinct(systems), list_distinct(systems), $per,
                    CAST(h % 40 = 0 AS INTEGER),
                    CASE WHEN h % 40 = 0 THEN ['out_of_order'] ELSE [] END,
                    '[]', '[]', 0
                FROM (SELECT *, ns || ':' || id AS label FROM (
                    SELECT *, CASE kind WHEN 'order' THEN 'oms_order'
                        WHEN 'shipment' THEN 'wms_shipment' WHEN 'invoice' THEN 'erp_invoice'
                        WHEN 'inventory' THEN 'inventory_change' ELSE 'po_number' END AS ns,
                        CASE kind WHEN 'order' THEN 'W-' WHEN 'shipment' THEN 'SH-'
                        WHEN 'invoice' THEN 'INV-' WHEN 'inventory' THEN 'IC-' ELSE 'PO-' END
                        || journey_id AS id
                    FROM shaped))""",
                {
                    "facilities": list(FACILITIES),
                    "channels": ["web", "edi", "marketplace"],
                    "per": per,
                },
            )
            con.execute(
                """INSERT INTO identity
                SELECT kind, split_part(label, ':', 1), split_part(label, ':', 2), journey_id
                FROM journeys"""
            )
            # each shipment carries two orders, each invoice bills one: neighbours exist
            con.execute(
                """INSERT INTO journey_links
                SELECT journey_id, (journey_id // 20) * 20 + (journey_id % 20 - 12) + d
                FROM journeys, (VALUES (0), (3)) AS t(d) WHERE kind = 'shipment'
                UNION ALL
                SELECT journey_id, (journey_id // 20) * 20 + (journey_id % 20 - 15) * 2
                FROM journeys WHERE kind = 'invoice'"""
            )
            con.execute(
                """INSERT INTO events
                SELECT seq, 'e-' || seq, hash('e-' || seq), occurred_at,
                    occurred_at + INTERVAL 2 SECOND, systems[x] || '.main', systems[x],
                    $facilities[1 + journey_id % 3], kind || '.' || stages[x], kind,
                    '{"' || kind || '": "' || journey_id || '"}', NULL,
                    CASE WHEN seq % 97 = 0 THEN 'error' ELSE 'ok' END,
                    CASE WHEN seq % 97 = 0 THEN 'interface refused the message' END,
                    CASE WHEN systems[x] = 'edi' THEN '{"partner": "P-' || (journey_id % 40)
                        || '"}' ELSE '{}' END,
                    '[]'
                FROM (
                    SELECT journey_id * $per + k AS seq, journey_id, kind, stages, systems,
                        1 + (k % len(stages)) AS x,
                        started_at + to_seconds(k * step_s / 2) AS occurred_at
                    FROM shaped, range(0, $per) AS r(k)
                )""",
                {"facilities": list(FACILITIES), "per": per},
            )
            con.execute(
                """INSERT INTO journey_events
                SELECT seq // $per, seq FROM range(0, $n * $per) AS r(seq)""",
                {"per": per, "n": journeys},
            )
            _telemetry(con, journeys=journeys, per=per)
            _queues_and_stock(con)
            con.execute("CREATE TABLE bench_meta (version INTEGER, journeys BIGINT, events BIGINT)")
            con.execute(
                "INSERT INTO bench_meta VALUES ($v, $j, $e)",
                {"v": VERSION, "j": journeys, "e": journeys * per},
            )
        store.checkpoint()
    finally:
        store.close()


def _telemetry(con: Any, *, journeys: int, per: int) -> None:
    """A span for every journey's first event, and a log line in its trace."""
    con.execute(
        """INSERT INTO spans
        SELECT md5(j::VARCHAR), substr(md5('s' || j), 1, 16), NULL, NULL, 1,
            'handle ' || e.type, 'SERVER', e.occurred_at,
            e.occurred_at + INTERVAL 150 MILLISECOND, 150.0,
            CASE WHEN e.status = 'error' THEN 'ERROR' ELSE 'OK' END, e.error,
            e.system || '-api', '{}', '[]', '[]', '{}', 'bench', NULL, '{}', e.event_id,
            e.received_at, 'bench'
        FROM range(0, $n) AS r(j) JOIN events AS e ON e.seq = j * $per""",
        {"n": journeys, "per": per},
    )
    con.execute(
        """INSERT INTO log_records
        SELECT start_time, NULL, service_name, 9, 'INFO', 'handled ' || name, NULL, trace_id,
            span_id, '{}', 'otlp', '{}', '{}', 'bench', NULL, '{}', NULL, received_at, 'bench'
        FROM spans"""
    )


def _queues_and_stock(con: Any) -> None:
    names = [q.format(f=f.lower()) for f in FACILITIES for q in QUEUES] + list(SHARED_QUEUES)
    con.execute(
        """INSERT INTO queue_samples
        SELECT $now - to_minutes(5 * t), 'rabbit@mq-1', '/', q,
            CAST(abs(hash(q, t)) % 500 AS BIGINT), NULL, NULL, 2, 10.0, 10.0,
            CAST(abs(hash(t, q)) % 900 AS DOUBLE), q LIKE '%.dlq', 'rabbitmq', '{}',
            $now - to_minutes(5 * t)
        FROM unnest($names) AS n(q), range(0, $samples) AS r(t)""",
        {"now": NOW, "names": names, "samples": DAYS * 288},
    )
    con.execute(
        """INSERT INTO inventory_positions
        SELECT 'SKU-' || s, f, src, split_part(src, '.', 1),
            CASE WHEN src = 'erp.s4' AND s % 10 = 0 THEN 90 ELSE 100 END,
            $now - to_minutes(s % 600), 0
        FROM range(0, 5000) AS r(s), unnest($facilities) AS x(f),
            unnest(['wms.main', 'erp.s4']) AS y(src)""",
        {"now": NOW, "facilities": list(FACILITIES)},
    )
    con.execute(
        """INSERT INTO event_rejects (received_at, request_id, batch_index, line, reason, raw)
        SELECT $now - to_minutes(r), 'bench', r, NULL, 'occurred_at: not a time', '{}'
        FROM range(0, 1000) AS t(r)""",
        {"now": NOW},
    )


def _cached(out_dir: Path, *, journeys: int, events: int) -> tuple[Path, float | None]:
    """The store file for this size, built when missing or stale; and the build time."""
    path = out_dir / f"pages-{journeys}-{events}.duckdb"
    if path.exists():
        store = Store(path)
        try:
            meta = store.query("SELECT * FROM bench_meta", doing="reading the benchmark store")
        except Exception:  # noqa: BLE001 (a half-built file from an interrupted run)
            meta = []
        finally:
            store.close()
        if meta and meta[0]["version"] == VERSION:
            return path, None
        for stale in (path, path.with_name(path.name + ".wal")):
            stale.unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    build_store(path, journeys=journeys, events=events)
    return path, time.perf_counter() - started


# -- the callbacks ---------------------------------------------------------------------------

# page path -> page parameters of each load measured (the URL's query)
LOADS: dict[str, list[dict[str, str]]] = {
    "": [{"period": "24h"}, {"period": "30d"}],
    "trace": [{"q": "INV-{invoice}"}, {"q": "W-{order}"}, {"q": "status:stalled facility:DC-EAST"}],
    "facilities": [{"period": "24h"}, {"period": "7d", "facility": "DC-EAST"}],
    "process": [{"period": "7d"}, {"period": "30d", "facility": "DC-EU", "channel": "web"}],
    "oncall": [{}],
    "exceptions": [{}],
}


def _outputs(key: str) -> list[dict[str, str]]:
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    found = []
    for part in parts:
        ident, _, prop = part.rpartition(".")
        found.append({"id": ident, "property": prop.split("@")[0]})
    return found


def _load_callbacks(dash: Any, page_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The callbacks a page load fires: its outputs and inputs, with no prevent_initial_call."""
    for key, spec in dash.callback_map.items():
        outputs = _outputs(key)
        if spec.get("prevent_initial_call") or not outputs[0]["id"].startswith(page_id + "-"):
            continue
        if any(i["id"].startswith("{") for i in spec["inputs"]):
            continue  # pattern-matching inputs: buttons, fired by clicks only
        yield key, spec


def _call(
    client: Any, key: str, spec: dict[str, Any], params: dict[str, str]
) -> tuple[float, float]:
    """Wall and CPU seconds of one callback call."""
    outputs = _outputs(key)
    inputs = [
        {
            "id": i["id"],
            "property": i["property"],
            "value": params if i["id"].endswith("-params") else None,
        }
        for i in spec["inputs"]
    ]
    body = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": inputs,
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs],
        "state": [{"id": s["id"], "property": s["property"], "value": None}
                  for s in spec.get("state", [])],
    }  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    answer = client.post("/_dash-update-component", json=body)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    if answer.status_code not in (200, 204):
        raise RuntimeError(f"{key}: HTTP {answer.status_code}: {answer.get_data(as_text=True)}")
    text = answer.get_data(as_text=True)
    if "notice-error" in text:
        raise RuntimeError(f"{key} answered an error notice: {text[:400]}")
    return took, cpu


def run(*, out_dir: Path, journeys: int = 1_000_000, events: int = 20_000_000) -> PagesRun:
    """Build (or reuse) the store, then time every page's load callbacks."""
    from correlator.models import load_models
    from dashboards.app import PAGES, create_dash
    from sla.jobs import stages_of

    path, built = _cached(out_dir, journeys=journeys, events=events)
    result = PagesRun(journeys=journeys, events=events, build_seconds=built)
    store = Store(path)
    try:
        dash = create_dash(
            store=store,
            clock=lambda: NOW,
            zones={"DC-EAST": "America/New_York", "DC-WEST": "America/Los_Angeles",
                   "DC-EU": "Europe/Amsterdam"},
            stages=stages_of(load_models()),
        )  # fmt: skip
        client = dash.server.test_client()
        # a recent order and the invoice that bills it (journey ids of the generated store)
        order = (journeys - 200) // 20 * 20
        ids = {"order": str(order), "invoice": str(order + 15)}
        for path_name, loads in LOADS.items():
            page = PAGES.get(path_name)
            if page is None:
                continue
            page_id = page.PAGE
            for params in loads:
                filled = {k: v.format(**ids) for k, v in params.items()}
                for key, spec in _load_callbacks(dash, page_id):
                    cold, _ = _call(client, key, spec, filled)
                    calls = [_call(client, key, spec, filled) for _ in range(RUNS)]
                    label = " ".join(f"{k}={v}" for k, v in filled.items()) or "(default)"
                    name = _outputs(key)[0]["id"]
                    warm, cpu = [c[0] for c in calls], [c[1] for c in calls]
                    result.timings.append(Timing(page.TITLE, f"{name} {label}", cold, warm, cpu))
                    log.info("%s %s: %.3f s", page.TITLE, label, max(warm))
    finally:
        store.close()
    return result


def table(result: PagesRun) -> Table:
    """The figures as a table: one row per page load callback."""
    title = f"Dashboard callbacks: {result.journeys:,} journeys, {result.events:,} events"
    if result.build_seconds is not None:
        title += f" (store built in {result.build_seconds:.0f} s)"
    out = Table(title=title)
    for column in (
        "page",
        "callback (first output, parameters)",
        "cold s",
        "warm max s",
        "warm max CPU s",
        f"ratio to goal (<= {GOAL_SECONDS:g} s)",
    ):
        out.add_column(column)
    for t in result.timings:
        ratio = t.worst / GOAL_SECONDS
        out.add_row(
            t.page,
            t.callback,
            f"{t.cold:.3f}",
            f"{t.worst:.3f}",
            f"{max(t.cpu):.3f}",
            f"[{'green' if ratio <= 1 else 'red'}]{ratio:.2f}[/]",
        )
    return out


def dumps(result: PagesRun) -> bytes:
    """The figures as JSON."""
    return json.dumps(result.figures(), indent=2).encode()
