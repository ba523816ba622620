"""The shapes of queue samples on the API: what may be posted and what a read returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tower.model import RejectedItem

__all__ = ["QueueOut", "QueuePage", "SampleIn", "SampleOut", "SamplesResult"]

Count = Annotated[int, Field(ge=0)]
Rate = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class SampleIn(BaseModel):
    """One queue's state at one moment, from any source (POST /api/v1/queues/samples)."""

    model_config = ConfigDict(extra="forbid")

    broker: str = Field(min_length=1, max_length=256, examples=["rabbit@mq-1"])
    vhost: str = Field("", max_length=256, description="Virtual host; '' where there is none.")
    queue: str = Field(min_length=1, max_length=512, examples=["orders.in"])
    depth: Count = Field(description="Messages in the queue (for Kafka: the consumer lag).")
    ready: Count | None = None
    unacked: Count | None = None
    consumers: Count | None = None
    publish_rate: Rate | None = Field(None, description="Messages per second in.")
    deliver_rate: Rate | None = Field(None, description="Messages per second out.")
    oldest_age_seconds: Rate | None = Field(None, description="Age of the oldest message.")
    dead_letter: bool | None = Field(
        None, description="A dead-letter queue; when absent, judged by the queue's name."
    )
    sampled_at: AwareDatetime | None = Field(
        None, description="When it was measured (RFC 3339 with an offset); default: arrival."
    )
    attributes: dict[str, Any] = Field(default_factory=dict)


class SampleOut(BaseModel):
    sampled_at: datetime
    depth: int
    ready: int | None
    unacked: int | None
    consumers: int | None
    publish_rate: float | None
    deliver_rate: float | None
    oldest_age_seconds: float | None
    dead_letter: bool
    origin: str
    attributes: dict[str, Any]


class QueueOut(BaseModel):
    broker: str
    vhost: str
    queue: str
    dead_letter: bool = Field(description="Any of the listed samples says dead-letter queue.")
    latest: SampleOut
    history: list[SampleOut] = Field(description="The newest samples, newest first.")


class QueuePage(BaseModel):
    items: list[QueueOut]


class SamplesResult(BaseModel):
    accepted: int = Field(description="Samples stored (a sample already stored counts too).")
    rejected: list[RejectedItem] = Field(default_factory=list)
