"""The SLA job: read, evaluate and record once per call, at the `now` it is given."""

from __future__ import annotations

from datetime import datetime

from opentelemetry import trace

from correlator.models import ModelSet
from sla import rules, service
from sla.models import SlaFile
from sla.rules import Evaluation
from tower.db import Store

__all__ = ["evaluate_once", "run_once", "stages_of"]

# The tower's own spans (tower/selfobs/telemetry.py routes them); a no-op while telemetry is off.
tracer = trace.get_tracer("tower.sla")


def stages_of(models: ModelSet) -> dict[str, list[str]]:
    """Journey kind -> its main-line stage names, in order (to check and place stages)."""
    return {model.kind: [stage.name for stage in model.stages] for model in models}


def evaluate_once(
    *, store: Store, definitions: SlaFile, stages: dict[str, list[str]], now: datetime
) -> Evaluation:
    """Evaluate every SLA and SLO at `now` without recording anything."""
    with tracer.start_as_current_span("tower.sla.evaluate") as span:
        inputs = service.read_inputs(store=store, definitions=definitions, stages=stages, now=now)
        evaluation = rules.evaluate(definitions, inputs, now=now)
        if span.is_recording():
            span.set_attributes(
                {
                    "tower.sla.evaluated": len(evaluation.results),
                    "tower.sla.skipped": sum(1 for r in evaluation.results if r.skipped),
                    "tower.sla.breaches": len(evaluation.breaches),
                    "tower.sla.breached": sorted({b.name for b in evaluation.breaches}),
                    "tower.sla.at": now.isoformat(),
                }
            )
        return evaluation


def run_once(
    *, store: Store, definitions: SlaFile, stages: dict[str, list[str]], now: datetime
) -> Evaluation:
    """Evaluate every SLA and SLO at `now` and store the result as the current state."""
    evaluation = evaluate_once(store=store, definitions=definitions, stages=stages, now=now)
    service.record_evaluation(store=store, evaluation=evaluation)
    return evaluation
