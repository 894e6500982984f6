"""How raising one metric moves the others through the plan's influences, over several hops.

One row of :class:`ReachTable` per (source, metric, sign): raising ``source`` moves ``metric``
the way ``sign`` says through a chain of 1 to ``hop_limit`` influences (``hops`` is the shortest
such chain, ``path`` one shortest chain, ``paths`` how many chains there are), plus the source
itself at 0 hops. A chain never comes back to its source (that would say "raising X raises X"); other
cycles are followed until the hop limit, and count as further chains.

Computed for every source at once over (metric, sign) states with sparse matrices, so a plan of
2,000 metrics and 4,000 influences takes a fraction of a second: a breadth-first search gives
the shortest chains (each state's predecessor is the lowest-numbered state one hop nearer, so
the result never depends on set order), and powers of the signed adjacency matrix count the
chains.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from alignment_engine.model import Influence

if TYPE_CHECKING:  # scipy loads in half a second; every command that reads a plan imports this
    from scipy import sparse

__all__ = ["HOP_LIMIT", "ReachTable", "reach_table"]

HOP_LIMIT = 5
"""Influence chains longer than this are not followed."""

_Ints = npt.NDArray[np.int64]


def reach_table(
    influences: Iterable[Influence], hop_limit: int = HOP_LIMIT, sources: Sequence[str] = ()
) -> ReachTable:
    """Every (source, metric, sign) reachable from ``sources`` (default: every metric named in
    an influence), as columns: sources in the order given, then by hops and by metric order."""
    edges = list(influences)
    names: dict[str, int] = {}
    for influence in edges:
        names.setdefault(influence.from_, len(names))
        names.setdefault(influence.to, len(names))
    starts = list(dict.fromkeys(sources)) if sources else sorted(names)
    for source in starts:
        names.setdefault(source, len(names))
    metrics = list(names)
    if not starts:
        empty = np.zeros(0, dtype=np.int64)
        return ReachTable(
            (), tuple(metrics), empty, empty, empty, empty, empty.astype(np.float64), empty, empty
        )
    count = len(metrics)
    cause = np.array([names[i.from_] for i in edges], dtype=np.int64)
    effect = np.array([names[i.to] for i in edges], dtype=np.int64)
    negative = np.array([i.sign < 0 for i in edges], dtype=np.int64)
    strength = np.array([float(i.strength) for i in edges], dtype=np.float64)
    # States: 2 * metric + (0 rising with the source, 1 falling). An influence links both
    # states of its cause, flipping the sign when it is negative.
    edge_from = np.concatenate([2 * cause, 2 * cause + 1])
    edge_to = np.concatenate([2 * effect + negative, 2 * effect + (1 - negative)])
    edge_strength = np.concatenate([strength, strength])
    order = np.lexsort((np.arange(edge_from.size), edge_from))
    edge_from, edge_to, edge_strength = edge_from[order], edge_to[order], edge_strength[order]
    out_start = np.searchsorted(edge_from, np.arange(2 * count + 1))
    source_of = np.array([names[s] for s in starts], dtype=np.int64)
    rows = np.arange(len(starts), dtype=np.int64)

    search = _Search(len(starts), 2 * count, source_of)
    search.visit(rows, 2 * source_of, np.full(rows.size, -1), np.ones(rows.size), 0)
    frontier_rows, frontier_states = rows, 2 * source_of
    for hop in range(1, hop_limit + 1):
        degree = out_start[frontier_states + 1] - out_start[frontier_states]
        if not degree.any():
            break
        pair_rows = np.repeat(frontier_rows, degree)
        pair_from = np.repeat(frontier_states, degree)
        first = np.repeat(out_start[frontier_states], degree)
        offset = np.arange(degree.sum()) - np.repeat(np.cumsum(degree) - degree, degree)
        edge = first + offset
        pair_to = edge_to[edge]
        fresh = (pair_to // 2 != source_of[pair_rows]) & ~search.seen(pair_rows, pair_to)
        pair_rows, pair_from, pair_to, edge = (
            pair_rows[fresh],
            pair_from[fresh],
            pair_to[fresh],
            edge[fresh],
        )
        # One predecessor per new state: the lowest-numbered state, then the first influence.
        pick = np.lexsort((edge, pair_from, pair_to, pair_rows))
        pair_rows, pair_from, pair_to, edge = (
            pair_rows[pick],
            pair_from[pick],
            pair_to[pick],
            edge[pick],
        )
        keys = pair_rows * (2 * count) + pair_to
        first_of = (
            np.concatenate([[True], keys[1:] != keys[:-1]]) if keys.size else keys.astype(bool)
        )
        pair_rows, pair_from, pair_to, edge = (
            pair_rows[first_of],
            pair_from[first_of],
            pair_to[first_of],
            edge[first_of],
        )
        if not pair_rows.size:
            break
        strengths = search.strength_of(pair_rows, pair_from) * edge_strength[edge]
        search.visit(pair_rows, pair_to, pair_from, strengths, hop)
        frontier_rows, frontier_states = pair_rows, pair_to

    chains = _chain_counts(len(starts), 2 * count, source_of, edge_from, edge_to, hop_limit)
    return search.results(starts, metrics, chains)


class _Search:
    """The breadth-first search's findings: per (source row, state) the hop it was first
    reached at, its predecessor state and the strength of that chain."""

    def __init__(self, sources: int, states: int, source_of: _Ints) -> None:
        self.states = states
        self.source_of = source_of
        self.index: dict[int, int] = {}
        self.rows: list[_Ints] = []
        self.targets: list[_Ints] = []
        self.previous: list[_Ints] = []
        self.strengths: list[npt.NDArray[np.float64]] = []
        self.hops: list[_Ints] = []
        self.visited = np.zeros(0, dtype=np.int64)  # sorted keys row * states + state

    def seen(self, rows: _Ints, states: _Ints) -> npt.NDArray[np.bool_]:
        keys = rows * self.states + states
        where = np.searchsorted(self.visited, keys)
        where[where >= self.visited.size] = 0
        return self.visited[where] == keys if self.visited.size else np.zeros(keys.size, bool)

    def strength_of(self, rows: _Ints, states: _Ints) -> npt.NDArray[np.float64]:
        keys = rows * self.states + states
        all_keys = np.concatenate(
            [r * self.states + t for r, t in zip(self.rows, self.targets, strict=True)]
        )
        all_strengths = np.concatenate(self.strengths)
        order = np.argsort(all_keys)
        where = order[np.searchsorted(all_keys, keys, sorter=order)]
        return all_strengths[where]

    def visit(
        self,
        rows: _Ints,
        states: _Ints,
        previous: _Ints,
        strengths: npt.NDArray[np.float64],
        hop: int,
    ) -> None:
        self.rows.append(rows)
        self.targets.append(states)
        self.previous.append(previous)
        self.strengths.append(strengths)
        self.hops.append(np.full(rows.size, hop, dtype=np.int64))
        self.visited = np.union1d(self.visited, rows * self.states + states)

    def results(
        self, starts: Sequence[str], metrics: Sequence[str], chains: sparse.csr_matrix
    ) -> ReachTable:
        rows = np.concatenate(self.rows)
        states = np.concatenate(self.targets)
        previous = np.concatenate(self.previous)
        strengths = np.concatenate(self.strengths)
        hops = np.concatenate(self.hops)
        counts = np.asarray(chains[rows, states]).ravel().astype(np.int64)
        counts[hops == 0] = 1
        # Sources in the order given, then hops, then metric order.
        listing = np.lexsort((states, hops, rows))
        rows, states, previous = rows[listing], states[listing], previous[listing]
        strengths, hops, counts = strengths[listing], hops[listing], counts[listing]
        keys = rows * self.states + states
        order = np.argsort(keys)
        parent = np.full(keys.size, -1, dtype=np.int64)
        has_parent = previous >= 0
        parent[has_parent] = order[
            np.searchsorted(
                keys, rows[has_parent] * self.states + previous[has_parent], sorter=order
            )
        ]
        strengths[hops == 0] = 1.0
        return ReachTable(
            tuple(starts),
            tuple(metrics),
            rows,
            states // 2,
            1 - 2 * (states % 2),
            hops,
            strengths,
            counts,
            parent,
        )


@dataclass(frozen=True, eq=False)
class ReachTable:
    """Every reach as columns (one row per (source, metric, sign)).

    Chains are kept as parent pointers and spelled out only when asked for: most of the
    100,000 reaches of a large plan are never shown to anyone.
    """

    source_names: tuple[str, ...]
    metric_names: tuple[str, ...]
    source: _Ints  # index into source_names
    metric: _Ints  # index into metric_names
    sign: _Ints
    hops: _Ints
    strength: npt.NDArray[np.float64]
    paths: _Ints
    parent: _Ints  # row one hop nearer the source, -1 for the source itself

    def __len__(self) -> int:
        return int(self.source.size)

    def path(self, row: int) -> tuple[str, ...]:
        """The metrics along one shortest chain, from the source to the reached metric."""
        return tuple(metric for metric, _ in self.steps(row))

    def steps(self, row: int) -> list[tuple[str, int]]:
        """One shortest chain as (metric, sign) steps: how each metric moves when the source
        rises (the source itself first, +1)."""
        names, metric, sign, parent = self.metric_names, *self._columns
        chain = []
        while row >= 0:
            chain.append((names[metric[row]], sign[row]))
            row = parent[row]
        chain.reverse()
        return chain

    @functools.cached_property
    def _columns(self) -> tuple[list[int], list[int], list[int]]:
        # Python lists: reading a numpy array one item at a time cost most of spelling out the
        # 200,000 chains a large check shows.
        return self.metric.tolist(), self.sign.tolist(), self.parent.tolist()


def _chain_counts(
    sources: int,
    states: int,
    source_of: _Ints,
    edge_from: _Ints,
    edge_to: _Ints,
    hop_limit: int,
) -> sparse.csr_matrix:
    """Chains of 1 to ``hop_limit`` influences from each source's rising state to every state,
    never passing through the source again."""
    from scipy import sparse

    step = sparse.csr_matrix(
        (np.ones(edge_from.size, dtype=np.int64), (edge_from, edge_to)), shape=(states, states)
    )
    walks = sparse.csr_matrix(
        (np.ones(sources, dtype=np.int64), (np.arange(sources), 2 * source_of)),
        shape=(sources, states),
    )
    total = sparse.csr_matrix((sources, states), dtype=np.int64)
    for _ in range(hop_limit):
        walks = (walks @ step).tocoo()
        keep = walks.col // 2 != source_of[walks.row]
        walks = sparse.csr_matrix(
            (walks.data[keep], (walks.row[keep], walks.col[keep])), shape=(sources, states)
        )
        if not walks.nnz:
            break
        total = total + walks
    return total.tocsr()
