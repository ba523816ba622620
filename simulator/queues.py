"""The middleware's queues as a broker would report them: a sample of every queue and its
dead-letter queue (`<queue>.dlq`) every few simulated minutes.

Built from the stories once their faults are applied: a message held by a queue-backlog fault
waits on its queue from the moment it should have been consumed until the consumer gets to it,
and a dead-lettered message sits on the dead-letter queue until it is replayed (or for good).
On top of that each queue carries a small baseline (a few messages in flight, seconds old),
drawn from a hash of the seed, the queue and the sample time: no random stream is drawn from,
so turning samples on changes no event, and the same seed gives the same samples.

A sample at time t needs every story that starts up to t; the stream generates stories an hour
at a time, so it asks for an hour's samples once that hour's stories are observed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from simulator.estate import Estate
from simulator.records import QueueSample, Story
from simulator.scenario import Fault, QueueBacklog, Volume

__all__ = ["BROKER", "EVERY", "VHOST", "QueueSampler", "dead_letter_queue"]

EVERY = timedelta(minutes=5)
BROKER = "rabbit@mq-1"
VHOST = "/"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A message on a queue from `since` until `until` (None: still there)."""

    since: datetime
    until: datetime | None


class QueueSampler:
    """Observes each story after its faults, and samples every queue on a fixed grid."""

    def __init__(
        self,
        *,
        seed: int,
        estate: Estate,
        volume: Volume,
        faults: Sequence[Fault],
        now: datetime,
    ) -> None:
        self.seed = seed
        self.queues = estate.queue_names
        # Messages per second each queue carries on average (the volume's daily mean).
        orders = volume.orders_per_hour / 3600
        stock = volume.inventory_changes_per_hour * len(estate.warehouses) / 3600
        self.rates = {
            q.name: stock if q.name.startswith("inventory.") else orders for q in estate.queues
        }
        self.stalls: list[tuple[str, datetime, datetime]] = [
            (f.queue, now + f.start, now + f.start + f.duration)
            for f in faults
            if isinstance(f, QueueBacklog)
        ]
        self.waiting: dict[str, list[_Waiting]] = {}

    def observe(self, story: Story) -> None:
        for record in story.faults:
            queue = record.detail.get("queue")
            if queue is None:
                continue
            if record.fault == "queue_backlog":
                held = timedelta(seconds=float(record.detail["delayed_s"]))
                self._add(queue, _Waiting(record.at, record.at + held))
            elif record.fault == "dead_letter":
                replayed = record.detail.get("replayed_at")
                until = None if replayed is None else datetime.fromisoformat(replayed)
                self._add(dead_letter_queue(queue), _Waiting(record.at, until))

    def _add(self, queue: str, message: _Waiting) -> None:
        self.waiting.setdefault(queue, []).append(message)

    def samples(self, start: datetime, end: datetime) -> Iterator[QueueSample]:
        """Every queue's sample at each grid time in [start, end), by time."""
        offset = (start - _EPOCH) % EVERY
        at = start if not offset else start + (EVERY - offset)
        while at < end:
            for queue in self.queues:
                yield self._sample(queue, at)
                yield self._sample(dead_letter_queue(queue), at, dead=True)
            at += EVERY
        for queue, messages in self.waiting.items():  # forget what is gone before `end`
            self.waiting[queue] = [m for m in messages if m.until is None or m.until >= end]

    def _sample(self, queue: str, at: datetime, *, dead: bool = False) -> QueueSample:
        held = [m for m in self.waiting.get(queue, []) if m.since <= at < (m.until or at + EVERY)]
        oldest = max(((at - m.since).total_seconds() for m in held), default=0.0)
        if dead:  # nothing consumes a dead-letter queue: messages leave when replayed
            depth, consumers, rate, delivered, age = len(held), 0, 0.0, 0.0, oldest
        else:
            depth = len(held) + int(self._draw(queue, at, "depth") * 4)  # + a few in flight
            consumers = 1
            rate = round(self.rates[queue] * (0.8 + 0.4 * self._draw(queue, at, "rate")), 4)
            stalled = any(q == queue and b <= at < e for q, b, e in self.stalls)
            delivered = 0.0 if stalled else rate
            age = max(oldest, 0.2 + 3 * self._draw(queue, at, "age")) if depth else 0.0
        return QueueSample(
            broker=BROKER,
            vhost=VHOST,
            queue=queue,
            depth=depth,
            consumers=consumers,
            publish_rate=rate,
            deliver_rate=delivered,
            oldest_age_seconds=round(age, 3),
            dead_letter=dead,
            sampled_at=at,
        )

    def _draw(self, queue: str, at: datetime, what: str) -> float:
        text = f"{self.seed}:queue:{queue}:{at.isoformat()}:{what}".encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2**64
