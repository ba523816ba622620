"""Journey models: which keys identify an object, which events move it through which stages.

Shipped defaults live in correlator/models/*.yaml; a user's folder of the same files overrides
them by `kind`. See docs/correlation.md.
"""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from tower.durations import Duration
from tower.model import EVENT_TYPE, IDENTIFIER
from tower.yamlfile import ConfigFileError, load_yaml_model

__all__ = ["JourneyModel", "ModelSet", "Stage", "load_models"]

Name = Annotated[str, Field(pattern=IDENTIFIER)]
EventType = Annotated[str, Field(pattern=EVENT_TYPE)]


class Stage(BaseModel):
    """A stage of a journey and the event types that put a journey into it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    events: list[EventType] = Field(min_length=1)
    next_within: Duration | None = Field(
        None, description="The next stage is expected within this time; later is stalled."
    )
    optional: bool = Field(False, description="Skipping it is not an anomaly.")
    final: bool = Field(False, description="Nothing is expected after it.")
    failed: bool = Field(False, description="Reaching it means the journey failed.")


class JourneyModel(BaseModel):
    """One kind of journey."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Name
    object_type: Name
    description: str = ""
    aliases: list[Name] = Field(
        default_factory=list,
        description="Key namespaces that name this object (documentation and search). Any key "
        "of an event's own object that is not a dimension is an alias.",
    )
    dimensions: list[Name] = Field(
        default_factory=list,
        description="Key namespaces that describe the object without identifying it (sku).",
    )
    includes: list[Name] = Field(
        default_factory=list,
        description="Object types whose journeys, when they reference this one, belong to it "
        "(an order includes its shipments and invoices).",
    )
    label: list[Name] = Field(default_factory=list, description="Preferred keys for display.")
    stages: list[Stage] = Field(min_length=1)
    side_states: list[Stage] = Field(default_factory=list)
    done_at: list[Name] = Field(default_factory=list)
    at_risk_after: float = Field(
        0.75, gt=0, le=1, description="Share of next_within after which a journey is at risk."
    )

    @field_validator("done_at")
    @classmethod
    def _known_stages(cls, done_at: list[str], info: ValidationInfo) -> list[str]:
        names = {s.name for s in (*info.data.get("stages", []), *info.data.get("side_states", []))}
        unknown = sorted(set(done_at) - names)
        if unknown:
            raise ValueError(f"names unknown stages: {unknown}")
        return done_at

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [s.name for s in (*self.stages, *self.side_states)]
        repeated = {n for n in names if names.count(n) > 1}
        if repeated:
            raise ValueError(f"stage names must be unique: {sorted(repeated)}")
        seen: dict[str, str] = {}
        for stage in (*self.stages, *self.side_states):
            for event_type in stage.events:
                if event_type in seen:
                    raise ValueError(
                        f"event type {event_type} maps to both {seen[event_type]} and {stage.name}"
                    )
                seen[event_type] = stage.name
        return self

    def stage_of(self, event_type: str) -> Stage | None:
        """The stage an event type moves this journey into, if any."""
        return self._by_type.get(event_type)

    def rank(self, stage: str) -> int:
        """Position on the main line; side states rank -1."""
        return self._ranks.get(stage, -1)

    @cached_property
    def _by_type(self) -> dict[str, Stage]:
        return {t: s for s in (*self.stages, *self.side_states) for t in s.events}

    @cached_property
    def _ranks(self) -> dict[str, int]:
        return {s.name: i for i, s in enumerate(self.stages)}

    def stage(self, name: str) -> Stage | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, Stage]:
        return {s.name: s for s in (*self.stages, *self.side_states)}


class ModelSet:
    """The journey models in force, by kind and by object type."""

    def __init__(self, models: list[JourneyModel]) -> None:
        self.by_kind = {m.kind: m for m in models}
        self.by_object_type = {m.object_type: m for m in models}

    def for_object_type(self, object_type: str) -> JourneyModel | None:
        return self.by_object_type.get(object_type)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.by_kind.values())


def load_models(user_dir: Path | None = None) -> ModelSet:
    """The shipped models, each replaced by a user's file of the same kind."""
    shipped = resources.files("correlator").joinpath("models")
    paths = [Path(str(entry)) for entry in shipped.iterdir() if entry.name.endswith(".yaml")]
    if user_dir is not None:
        if not user_dir.is_dir():
            raise ConfigFileError(user_dir, None, "journey model folder does not exist")
        paths += sorted(user_dir.glob("*.yaml"))
    models: dict[str, JourneyModel] = {}
    object_types: dict[str, Path] = {}
    for path in sorted(paths, key=lambda p: p.parent != Path(str(shipped))):
        model = load_yaml_model(path, JourneyModel)
        earlier = models.get(model.kind)
        if earlier is None and model.object_type in object_types:
            raise ConfigFileError(
                path,
                1,
                f"object_type {model.object_type} already has a "
                f"model in {object_types[model.object_type]}",
            )
        models[model.kind] = model
        object_types[model.object_type] = path
    return ModelSet(list(models.values()))
