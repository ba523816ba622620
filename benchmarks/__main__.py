"""`python -m benchmarks` (`make bench`): ingest, OTLP and correlator benchmarks, tables, JSON."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "out"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--only",
        choices=("ingest", "otlp", "correlate", "pages", "sla", "detection"),
        help="run one benchmark",
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events to ingest")
    parser.add_argument("--batch-size", type=int, default=5_000, help="events per request")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--spans", type=int, default=200_000, help="spans to send to /v1/traces")
    parser.add_argument("--span-batch", type=int, default=1_000, help="spans per OTLP request")
    parser.add_argument(
        "--journey-events",
        type=int,
        default=10_000_000,
        help="events of the estate the correlator stitches (about 10 per order)",
    )
    parser.add_argument(
        "--visibility-seconds", type=float, default=30.0, help="length of the live-feed phase"
    )
    parser.add_argument("--page-journeys", type=int, default=1_000_000, help="pages: journeys")
    parser.add_argument("--page-events", type=int, default=20_000_000, help="pages: events")
    parser.add_argument(
        "--telemetry-overhead",
        action="store_true",
        help="ingest: measure max rate with the tower's own OpenTelemetry SDK off and on instead",
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="ingest: CPU per stage of one batch, in process, against the ceiling (decision 0011)",
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="events file, JSON, scratch")
    return parser.parse_args()


def main() -> None:
    # Imported here, not at the top: client processes are spawned and re-import this module.
    import orjson
    from rich.console import Console

    args = parse_args()
    # The towers the benchmarks start (in-process and as subprocesses) take every request: a
    # key check is one SHA-256 per request, nothing next to a 5,000-event batch.
    os.environ.setdefault("TOWER_AUTH_REQUIRED", "false")
    # Rich wraps at 80 columns when it cannot see a terminal (make, a log file); 120 reads better.
    console = Console(width=None if sys.stdout.isatty() else 120)
    if args.only == "ingest" and args.stages:
        from benchmarks import ingest_stages

        stages = ingest_stages.run(out_dir=args.out, events=args.events, batch_size=args.batch_size)
        console.print(ingest_stages.table(stages))
        return
    if args.only == "ingest" and args.telemetry_overhead:
        from benchmarks.ingest import Setup, run_overhead

        overhead = run_overhead(
            Setup(
                events=args.events,
                batch_size=args.batch_size,
                clients=args.clients,
                out_dir=args.out,
            )
        )
        written = args.out / "telemetry_overhead.json"
        written.write_bytes(
            orjson.dumps(
                {
                    "events_per_second_off": overhead.off_rate,
                    "events_per_second_on": overhead.on_rate,
                    "overhead": overhead.overhead,
                    "instrumentation_seconds_per_batch": overhead.per_batch_seconds,
                    "instrumentation_share_of_batch": overhead.batch_share,
                    "goal": 0.05,
                    "ratio_to_goal": overhead.ratio,
                },
                option=orjson.OPT_INDENT_2,
            )
        )
        print(f"figures written to {written}")
        return
    if args.only in (None, "ingest"):
        from benchmarks.ingest import Setup, run
        from benchmarks.report import figures, table

        setup = Setup(
            events=args.events,
            batch_size=args.batch_size,
            clients=args.clients,
            out_dir=args.out,
        )
        result = run(setup)
        console.print(table(result))
        written = args.out / "ingest.json"
        written.write_bytes(orjson.dumps(figures(result), option=orjson.OPT_INDENT_2))
        print(f"figures written to {written}")
    if args.only in (None, "otlp"):
        from benchmarks import otlp

        traced = otlp.run(
            otlp.OtlpSetup(
                spans=args.spans, batch_size=args.span_batch, clients=args.clients, out_dir=args.out
            )
        )
        console.print(otlp.table(traced))
        written = args.out / "otlp.json"
        written.write_bytes(orjson.dumps(otlp.figures(traced), option=orjson.OPT_INDENT_2))
        print(f"figures written to {written}")
    if args.only in (None, "correlate"):
        from benchmarks import correlate

        stitched = correlate.run(
            out_dir=args.out,
            events=args.journey_events,
            visibility_seconds=args.visibility_seconds,
        )
        console.print(correlate.table(stitched))
        written = args.out / "correlate.json"
        written.write_bytes(orjson.dumps(stitched.figures(), option=orjson.OPT_INDENT_2))
        print(f"figures written to {written}")

    if args.only in (None, "pages"):
        from benchmarks import pages

        measured = pages.run(out_dir=args.out, journeys=args.page_journeys, events=args.page_events)
        console.print(pages.table(measured))
        written = args.out / "pages.json"
        written.write_bytes(pages.dumps(measured))
        print(f"figures written to {written}")

    if args.only in (None, "sla"):
        from benchmarks import sla

        cycled = sla.run(out_dir=args.out)
        console.print(sla.table(cycled))
        written = args.out / "sla.json"
        written.write_bytes(orjson.dumps(cycled.figures(), option=orjson.OPT_INDENT_2))
        print(f"figures written to {written}")

    if args.only in (None, "detection"):
        from benchmarks import detection

        detected = detection.run()
        console.print(detection.table(detected))
        written = args.out / "detection.json"
        written.write_bytes(orjson.dumps(detected.figures(), option=orjson.OPT_INDENT_2))
        print(f"figures written to {written}")


if __name__ == "__main__":
    main()
