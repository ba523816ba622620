"""The SLA HTTP face: definitions with their current state, and SLO error budgets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from sla import service
from sla.models import SlaFile
from tower.deps import StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["sla"])


def get_definitions(request: Request) -> SlaFile:
    definitions: SlaFile = request.app.state.sla_definitions
    return definitions


DefinitionsDep = Annotated[SlaFile, Depends(get_definitions)]


@router.get("/sla")
def get_slas(store: StoreDep, definitions: DefinitionsDep) -> dict[str, Any]:
    """Every SLA and SLO with the result of the last evaluation (breaches, or why skipped)."""
    state = {row["name"]: row for row in service.sla_state(store=store)}
    items = []
    for sla in [*definitions.slas, *definitions.slos]:
        row = state.get(sla.name)
        items.append(
            {
                "name": sla.name,
                "kind": getattr(sla, "kind", "slo"),
                "definition": sla.model_dump(mode="json", by_alias=True),
                "evaluated_at": row["evaluated_at"] if row else None,
                "breaching": bool(row and row["breaches"]),
                "breaches": row["detail"]
                if row and sla.name not in _slo_names(definitions)
                else (row["detail"]["breaches"] if row else []),
                "skipped": row["skipped"] if row else None,
            }
        )
    return {"items": items}


@router.get("/slo")
def get_slos(store: StoreDep, definitions: DefinitionsDep) -> dict[str, Any]:
    """Each SLO: its SLI over the period, error budget left, and burn rate per window pair."""
    state = {row["name"]: row for row in service.sla_state(store=store)}
    items = []
    for slo in definitions.slos:
        row = state.get(slo.name)
        items.append(
            {
                "name": slo.name,
                "objective": slo.objective,
                "evaluated_at": row["evaluated_at"] if row else None,
                "status": row["detail"]["status"] if row else None,
            }
        )
    return {"items": items}


def _slo_names(definitions: SlaFile) -> set[str]:
    return {s.name for s in definitions.slos}
