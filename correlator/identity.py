"""Identity: which keys name the same object, and so which journey an event belongs to.

Pure union-find over one batch of events plus what the identity table already knows. Keys of
one object (an event's own keys, or the keys of one related object) are aliases and join; a
related object is a link to another journey, never an alias of this one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["EventNodes", "Node", "Resolution", "resolve"]

Node = tuple[str, str, str]  # (object_type, namespace, value)


@dataclass(frozen=True, slots=True)
class EventNodes:
    """The identity-relevant part of one event."""

    seq: int
    own: tuple[Node, ...]  # aliases of the event's own object (empty: the event is unlinked)
    related: tuple[tuple[Node, ...], ...] = ()  # aliases of each object it references


@dataclass(slots=True)
class Resolution:
    """What a batch does to the identity graph."""

    own_journey: dict[int, int] = field(default_factory=dict)  # seq -> journey
    links: set[tuple[int, int]] = field(default_factory=set)  # (from journey, to journey)
    new_nodes: dict[Node, int] = field(default_factory=dict)  # unseen key -> journey
    merges: dict[int, int] = field(default_factory=dict)  # absorbed journey -> survivor
    new_journeys: dict[int, str] = field(default_factory=dict)  # journey -> object type
    next_id: int = 1


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def find(self, item: object) -> object:
        parent = self.parent.setdefault(item, item)
        if parent is item or parent == item:
            return item
        root = self.find(parent)
        self.parent[item] = root
        return root

    def union(self, items: Iterable[object]) -> None:
        it = iter(items)
        first = next(it, None)
        if first is None:
            return
        root = self.find(first)
        for other in it:
            other_root = self.find(other)
            if other_root != root:
                self.parent[other_root] = root


def resolve(batch: list[EventNodes], existing: dict[Node, int], *, next_id: int) -> Resolution:
    """Assign every event and referenced object of `batch` to a journey.

    `existing` maps the batch's already-known keys to their journeys. Journeys that the batch
    proves to be one object merge into the oldest (lowest id).
    """
    uf = _UnionFind()
    for event in batch:
        uf.union(event.own)
        for group in event.related:
            uf.union(group)
    for node, journey in existing.items():
        uf.union((node, ("journey", journey)))

    components: dict[object, list[object]] = {}
    for item in list(uf.parent):
        components.setdefault(uf.find(item), []).append(item)

    result = Resolution(next_id=next_id)
    journey_of_root: dict[object, int] = {}
    for root, members in components.items():
        journeys = sorted(m[1] for m in members if isinstance(m, tuple) and m[0] == "journey")
        if journeys:
            survivor = journeys[0]
            for absorbed in journeys[1:]:
                result.merges[absorbed] = survivor
        else:
            survivor = result.next_id
            result.next_id += 1
            object_type = next(m[0] for m in members if isinstance(m, tuple) and len(m) == 3)
            result.new_journeys[survivor] = str(object_type)
        journey_of_root[root] = survivor
        for member in members:
            if isinstance(member, tuple) and len(member) == 3 and member not in existing:
                result.new_nodes[member] = survivor  # type: ignore[index,unused-ignore]

    for event in batch:
        own = journey_of_root[uf.find(event.own[0])] if event.own else None
        if own is not None:
            result.own_journey[event.seq] = own
        for group in event.related:
            if group:
                target = journey_of_root[uf.find(group[0])]
                if own is not None and target != own:
                    result.links.add((own, target))
    return result
