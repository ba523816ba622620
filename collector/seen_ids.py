"""The hashes of every stored event_id, in memory, so the duplicate check does not scan the store.

Checking a batch for stored duplicates by joining it with `events.id_hash` reads the whole
column on every commit: at a million events that join was two thirds of a group commit's CPU,
and it grows with the store. This set answers "might this id be stored?" from sorted arrays in
microseconds; only the ids it says yes to (a replay, or a 64-bit hash collision) are checked
exactly in the store. It may hold hashes of events the store no longer has (retention deleted
them, a commit rolled back), which only costs an exact check; it must never miss a stored one,
so it is loaded from the store before the writer's first commit and added to after each.

Sorted runs of doubling size (a small log-structured merge) keep adding cheap: a commit adds
one run, and two runs merge when the newer is at least half the older, so a lookup searches at
most log2(stored / commit size) runs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["SeenIds"]

Hashes = npt.NDArray[np.uint64]


class SeenIds:
    """A set of uint64 id hashes with batch lookups; not thread-safe (the writer owns it)."""

    def __init__(self, hashes: Hashes | None = None) -> None:
        self._runs: list[Hashes] = []
        if hashes is not None and len(hashes):
            self._runs.append(np.sort(hashes))  # np.unique is ten times slower at 10 M

    def __len__(self) -> int:
        """Hashes held, counting one that was added twice twice (runs are not deduplicated)."""
        return sum(len(run) for run in self._runs)

    @property
    def runs(self) -> int:
        return len(self._runs)

    def contains(self, hashes: Hashes) -> npt.NDArray[np.bool_]:
        """For each hash, whether it was added."""
        # Sorted needles walk each run in one direction: six times faster at 10 M held.
        order = np.argsort(hashes)
        needles = hashes[order]
        hit = np.zeros(len(needles), dtype=bool)
        for run in self._runs:
            at = np.searchsorted(run, needles)
            inside = at < len(run)
            hit[inside] |= run[at[inside]] == needles[inside]
        found = np.empty(len(hashes), dtype=bool)
        found[order] = hit
        return found

    def add(self, hashes: Hashes) -> None:
        if not len(hashes):
            return
        self._runs.append(np.sort(hashes))
        while len(self._runs) > 1 and 2 * len(self._runs[-1]) >= len(self._runs[-2]):
            newer = self._runs.pop()
            older = self._runs.pop()
            self._runs.append(np.sort(np.concatenate([older, newer]), kind="stable"))
