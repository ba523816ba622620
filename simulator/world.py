"""The simulated distributor over time: stories generated hour by hour, faults applied, and one
stream of deliveries in the order the tower receives them.

Determinism: each hour of each day has its own random stream, seeded from (seed, kind, day,
hour), and document numbers count per day from midnight UTC. So a run that starts mid-day still
numbers that day's documents from 1 (it generates the skipped hours and discards them), and two
runs with the same seed agree on every event they both cover.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from simulator.estate import Customer, Estate, IdBook, Warehouse, zone
from simulator.faults import FaultInjector
from simulator.flows import Flow, OrderPlan, inventory_change, order_group, purchase_order
from simulator.queues import QueueSampler
from simulator.records import Emission, FaultRecord, LogLine, QueueSample, Story, TraceRecord
from simulator.scenario import Volume
from simulator.telemetry import TelemetryPlanner

__all__ = ["Item", "World", "stream"]

Item = Emission | FaultRecord | TraceRecord | LogLine | QueueSample
IN_TURN = timedelta(seconds=1)  # the least gap between two changes' hops on one interface

HOUR = timedelta(hours=1)

# Where orders come from, and each region's offset from UTC for its day curve (standard time;
# the curve is a shape, not a timetable).
REGIONS = (("us-east", 0.45, -5), ("us-west", 0.35, -8), ("eu", 0.20, 1))


def _local_weight(hour: int) -> float:
    """Relative order intake by local hour: quiet nights, a busy working day, an evening tail."""
    if hour < 6:
        return 0.15
    if hour < 9:
        return 0.8
    if hour < 21:
        return 1.45
    return 0.7


_MEAN_WEIGHT = sum(_local_weight(h) for h in range(24)) / 24


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson count; the normal approximation for large means keeps big volumes fast."""
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


@dataclass(slots=True)
class _Day:
    """What carries over from hour to hour within one simulated day."""

    ids: IdBook
    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    # (warehouse, sku) -> when each hop of its latest stock change happened (see _in_turn)
    hops: dict[tuple[str, str], list[datetime]] = field(default_factory=dict)


def _deliver_in_order(story: Story) -> None:
    """Deliver a story's events in the order they happened.

    Two steps seconds apart, from different systems, could otherwise swap on the way to the
    tower. In a clean estate they do not: reordering is a fault (out_of_order), injected on
    purpose and written to the ground truth, never noise a detector would trip over.
    """
    last: datetime | None = None
    for emission in sorted(story.emissions, key=lambda e: e.occurred_at):
        if last is not None and emission.deliver_at <= last:
            emission.deliver_at = last + timedelta(milliseconds=1)
        last = emission.deliver_at


def _in_turn(emissions: list[Emission], last: list[datetime]) -> None:
    """Keep a SKU's stock changes in order on every interface (`last`: the previous change's
    hop times, updated here).

    Each hop's delay is drawn on its own, so a change made seconds after another could pass it
    on the way to the middleware or a channel, leaving that system on the older position: a
    drift no fault caused. Interfaces pass one site's messages in turn, so a hop never happens
    before the previous change's same hop; a hop held back holds the later hops with it.
    """
    held = timedelta(0)
    for i, emission in enumerate(emissions):
        behind = last[i] + IN_TURN - emission.occurred_at if i < len(last) else timedelta(0)
        wait = max(held, behind)
        if i < 3:  # WMS, middleware, ERP in a chain; the channels fan out from the ERP
            held = wait
        if wait > timedelta(0):
            emission.occurred_at += wait
            emission.deliver_at += wait
    last[:] = [e.occurred_at for e in emissions]


class World:
    """Generates the estate's stories for any hour, the same for a given seed and volume."""

    def __init__(self, *, seed: int, volume: Volume, estate: Estate) -> None:
        self.seed = seed
        self.volume = volume
        self.estate = estate
        self._by_region: dict[str, list[Customer]] = {}
        for customer in estate.customers:
            self._by_region.setdefault(customer.region, []).append(customer)
        self._home = {w.region: w for w in estate.warehouses}

    def _rng(self, kind: str, hour: datetime) -> random.Random:
        return random.Random(f"{self.seed}:{kind}:{hour.isoformat()}")

    def _base_stock(self, facility: str, sku: str) -> int:
        digest = hashlib.blake2b(f"{self.seed}:{facility}:{sku}".encode(), digest_size=4).digest()
        return 200 + int.from_bytes(digest, "big") % 1800

    def hour(self, start: datetime, day: _Day) -> list[Story]:
        """Every story that starts in the hour beginning at `start`, in start order."""
        stories = (
            self._orders(start, day) + self._inventory(start, day) + self._purchases(start, day)
        )
        stories.sort(key=lambda s: s.start)
        for story in stories:
            _deliver_in_order(story)
        return stories

    def _orders(self, start: datetime, day: _Day) -> list[Story]:
        rng = self._rng("orders", start)
        flow = Flow(self.estate, day.ids, rng)
        weights = [
            share * _local_weight((start.hour + offset) % 24) / _MEAN_WEIGHT
            for _, share, offset in REGIONS
        ]
        count = _poisson(rng, self.volume.orders_per_hour * sum(weights))
        arrivals = sorted(start + timedelta(seconds=rng.uniform(0, 3600)) for _ in range(count))
        stories = []
        for at in arrivals:
            region = rng.choices(REGIONS, weights=weights)[0][0]
            customer = rng.choice(self._by_region[region])
            warehouse = self._warehouse_for(rng, region)
            grouped = rng.random() < (0.3 if customer.channel == "edi" else 0.04)
            size = rng.choice((2, 2, 3)) if grouped else 1
            plans, when = [], at
            for _ in range(size):
                plans.append(self._plan(rng, customer, when))
                when += timedelta(minutes=rng.uniform(1, 10))
            stories.append(
                order_group(
                    flow, plans=plans, warehouse=warehouse, return_rate=self.volume.return_rate
                )
            )
        return stories

    def _warehouse_for(self, rng: random.Random, region: str) -> Warehouse:
        home = self._home[region]
        if region != "eu" and rng.random() < 0.08:
            # Stock-outs send some US orders to the other coast.
            return self._home["us-west" if region == "us-east" else "us-east"]
        return home

    def _plan(self, rng: random.Random, customer: Customer, at: datetime) -> OrderPlan:
        quantity = {"web": (1, 3), "marketplace": (1, 4), "edi": (5, 60)}[customer.channel]
        express = {"web": 0.15, "marketplace": 0.25, "edi": 0.05}[customer.channel]
        return OrderPlan(
            at=at,
            customer=customer,
            sku=rng.choice(self.estate.skus),
            quantity=rng.randint(*quantity),
            express=rng.random() < express,
        )

    def _inventory(self, start: datetime, day: _Day) -> list[Story]:
        rng = self._rng("inventory", start)
        flow = Flow(self.estate, day.ids, rng)
        stories = []
        for warehouse in self.estate.warehouses:
            opens, closes = warehouse.shift
            on_shift = opens <= start.astimezone(zone(warehouse.tz)).hour < closes
            rate = self.volume.inventory_changes_per_hour * (1.0 if on_shift else 0.1)
            for at in sorted(
                start + timedelta(seconds=rng.uniform(0, 3600)) for _ in range(_poisson(rng, rate))
            ):
                sku = rng.choice(self.estate.skus)
                quantity = rng.choice((-1, 1)) * rng.randint(1, 12)
                key = (warehouse.code, sku.code)
                on_hand = day.stock.get(key, self._base_stock(*key))
                day.stock[key] = on_hand = max(0, on_hand + quantity)
                reason = rng.choice(("cycle count", "damaged", "found", "relocation"))
                emissions = inventory_change(
                    flow,
                    at=at,
                    warehouse=warehouse,
                    sku=sku,
                    quantity=quantity,
                    on_hand=on_hand,
                    extra={"reason": reason},
                )
                _in_turn(emissions, day.hops.setdefault(key, []))
                stories.append(Story(kind="inventory", start=at, emissions=emissions))
        return stories

    def _purchases(self, start: datetime, day: _Day) -> list[Story]:
        rng = self._rng("purchasing", start)
        flow = Flow(self.estate, day.ids, rng)
        stories = []
        count = _poisson(rng, self.volume.purchase_orders_per_day / 24)
        for at in sorted(start + timedelta(seconds=rng.uniform(0, 3600)) for _ in range(count)):
            supplier = rng.choice(self.estate.suppliers)
            warehouse = self._home[supplier.region]
            sku = rng.choice(self.estate.skus)
            stories.append(
                purchase_order(
                    flow,
                    at=at,
                    supplier=supplier,
                    warehouse=warehouse,
                    sku=sku,
                    quantity=rng.randint(5, 50) * 10,
                    on_hand=self._base_stock(warehouse.code, sku.code),
                )
            )
        return stories


def stream(
    *,
    world: World,
    start: datetime,
    until: datetime | None = None,
    faults: FaultInjector | None = None,
    telemetry: TelemetryPlanner | None = None,
    queues: QueueSampler | None = None,
) -> Iterator[Item]:
    """Deliveries (events, spans, log lines and ground-truth records) in the order the tower
    receives them.

    Covers the stories that start at or after `start`; stops at `until`, or never. A story
    never delivers before it starts, so once an hour is generated everything due before the
    next hour can go out: the stream is lazy, and endless in live mode.
    """
    pending: list[tuple[datetime, int, Item]] = []
    order = itertools.count()
    numbers = itertools.count()
    hour = datetime.combine(start.astimezone(UTC).date(), time(), tzinfo=UTC)
    day: _Day | None = None
    while until is None or hour <= until:
        if day is None or day.ids.day != hour.date():
            day = _Day(IdBook(hour.date()))
        for story in world.hour(hour, day):
            if story.start < start or (until is not None and story.start > until):
                continue
            if faults is not None:
                faults.apply(story)
            number = next(numbers)
            for emission in story.emissions:
                emission.story = number
                heapq.heappush(pending, (emission.deliver_at, next(order), emission))
            if telemetry is not None:
                # After the story's events: a signal due at the same instant as one of them
                # comes second, as its slot intends.
                for signal in telemetry.plan(story, number):
                    heapq.heappush(pending, (signal.deliver_at, next(order), signal))
            for record in story.faults:
                heapq.heappush(pending, (record.reveal_at, next(order), record))
            if queues is not None:
                queues.observe(story)
        if queues is not None:
            # Every story that starts before the next hour is observed: its samples are known.
            for sample in queues.samples(max(hour, start), hour + HOUR):
                heapq.heappush(pending, (sample.sampled_at, next(order), sample))
        hour += HOUR
        while pending and pending[0][0] < hour:
            due, _, item = heapq.heappop(pending)
            if until is None or due <= until:
                yield item
