"""Identity: which keys name the same object, and so which journey an event belongs to.

Pure and vectorised: connected components over one batch of keys plus what the identity table
already knows, in numpy, because a Python union-find over per-event objects cost 20 µs per event
(4 s of a 200,000-event stitch; now 0.6 s). Keys of one object (an event's own keys, or the
keys of one related object) are aliases and join; a related object is a link to another journey,
never an alias of this one.

The graph's vertices are the groups (one event's own keys, or one related object's keys), the
nodes (distinct keys) and the journeys identity already knows; its edges join each group to its
nodes and each known node to its journey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["NO_JOURNEY", "OWN", "IntArray", "Resolution", "resolve"]

IntArray = npt.NDArray[np.int64]
NO_JOURNEY = -1  # a key identity does not know yet
OWN = -1  # the related index of an event's own keys (event_keys.related_index is NULL)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a batch does to the identity graph. Pairs of arrays are columns of one table."""

    new_node_rows: IntArray  # one input row per key identity did not know...
    new_node_journeys: IntArray  # ...and the journey it now names
    member_journeys: IntArray  # the journey of each event with own keys...
    member_seqs: IntArray  # ...and that event
    link_from: IntArray  # distinct (own journey, related journey) pairs, the two differ
    link_to: IntArray
    absorbed: IntArray  # known journeys the batch proved to be one object...
    survivor: IntArray  # ...merge into the lowest journey id of that object
    journeys_created: int
    next_id: int


def resolve(
    *,
    seq: IntArray,
    related: IntArray,
    node: IntArray,
    known: IntArray,
    next_id: int,
) -> Resolution:
    """Assign every event and referenced object of a batch to a journey.

    One row per key of the batch (dimension keys already dropped): the event `seq`, `related`
    (OWN for the event's own keys, else the related object's position), `node` (equal for equal
    (object_type, namespace, value), any integers) and `known` (its journey in identity, or
    NO_JOURNEY). Journeys that the batch proves to be one object merge into the oldest (lowest
    id); an object no journey knows yet gets the next id, in the order the batch first names it.
    """
    seq, related, node, known = (np.asarray(a, dtype=np.int64) for a in (seq, related, node, known))
    # Groups numbered in (seq, related) order, own keys first: the order the batch names objects.
    order = np.lexsort((related, seq))
    step = np.ones(len(order), dtype=bool)
    step[1:] = (np.diff(seq[order]) != 0) | (np.diff(related[order]) != 0)
    group = np.empty(len(order), dtype=np.int64)
    group[order] = np.cumsum(step) - 1
    group_seq, group_related = seq[order][step], related[order][step]
    n_groups = len(group_seq)

    node_ids, node_of_row = np.unique(node, return_inverse=True)
    n_nodes = len(node_ids)
    known_rows = known != NO_JOURNEY
    journeys, journey_of_row = np.unique(known[known_rows], return_inverse=True)

    # Vertices: groups first, so a component's lowest vertex (its root) is its first group.
    node_vertex = n_groups + node_of_row.astype(np.int64)
    u = np.concatenate([group, node_vertex[known_rows]])
    v = np.concatenate([node_vertex, n_groups + n_nodes + journey_of_row.astype(np.int64)])
    root = _components(n_groups + n_nodes + len(journeys), u, v)

    # A component's journey: its lowest known journey, else a new id.
    unset = np.iinfo(np.int64).max
    journey_of_root = np.full(len(root), unset, dtype=np.int64)
    journey_roots = root[n_groups + n_nodes :]
    np.minimum.at(journey_of_root, journey_roots, journeys)
    group_root = root[:n_groups]
    new_roots = np.unique(group_root[journey_of_root[group_root] == unset])  # first-named first
    journey_of_root[new_roots] = next_id + np.arange(len(new_roots), dtype=np.int64)
    group_journey = journey_of_root[group_root]
    survivor = journey_of_root[journey_roots]
    merged = survivor != journeys

    # One row per unknown node (its first), with its component's journey.
    node_first = np.full(n_nodes, len(node), dtype=np.int64)
    np.minimum.at(node_first, node_of_row, np.arange(len(node), dtype=np.int64))
    new_rows = node_first[known[node_first] == NO_JOURNEY]

    own = group_related == OWN
    # The event's own group, if any, is its first group (groups are in (seq, related) order).
    first = np.searchsorted(group_seq, group_seq, side="left")
    linked = ~own & own[first] & (group_journey != group_journey[first])
    links = np.unique(np.stack([group_journey[first][linked], group_journey[linked]]), axis=1)
    return Resolution(
        new_node_rows=new_rows,
        new_node_journeys=group_journey[group[new_rows]],
        member_journeys=group_journey[own],
        member_seqs=group_seq[own],
        link_from=links[0],
        link_to=links[1],
        absorbed=journeys[merged],
        survivor=survivor[merged],
        journeys_created=len(new_roots),
        next_id=next_id + len(new_roots),
    )


def _components(n_vertices: int, u: IntArray, v: IntArray) -> IntArray:
    """The lowest vertex of each vertex's connected component (edges u[i]-v[i]).

    Hook-and-compress: every round hooks each edge's higher root under the lower one, then
    jumps pointers until each vertex points at its root. Parents only ever decrease, so no
    cycle forms and a root is its component's lowest vertex. The batch's components are a few
    keys each, so this takes a handful of rounds.
    """
    parent = np.arange(n_vertices, dtype=np.int64)
    while True:
        pu, pv = parent[u], parent[v]
        apart = pu != pv
        if not apart.any():
            return parent
        u, v, pu, pv = u[apart], v[apart], pu[apart], pv[apart]  # joined edges stay joined
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
