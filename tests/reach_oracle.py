"""Reaches as objects, and a brute-force reference for them (tests only).

:func:`metric_reach` lists :func:`alignment_engine.reach.reach_table`'s columns as one
:class:`Reach` per row, the shape tests read best. :func:`chains_by_walking` is the reference
the table is checked against: it walks every chain of influences one by one, which only a
small plan allows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alignment_engine.model import Influence
from alignment_engine.reach import HOP_LIMIT, reach_table


@dataclass(frozen=True, slots=True)
class Reach:
    """Raising ``source`` moves ``metric`` the way ``sign`` says, through ``hops`` influences."""

    source: str
    metric: str
    sign: int
    hops: int
    strength: float
    path: tuple[str, ...]
    paths: int


def metric_reach(
    influences: Iterable[Influence], hop_limit: int = HOP_LIMIT, sources: Sequence[str] = ()
) -> list[Reach]:
    """Every (source, metric, sign) reachable from ``sources`` (default: every metric named in
    an influence), sources in the order given, then by hops and by metric order."""
    table = reach_table(influences, hop_limit, sources)
    return [
        Reach(
            table.source_names[int(table.source[i])],
            table.metric_names[int(table.metric[i])],
            int(table.sign[i]),
            int(table.hops[i]),
            float(table.strength[i]),
            table.path(i),
            int(table.paths[i]),
        )
        for i in range(len(table))
    ]


@dataclass(frozen=True)
class Walked:
    """What walking every chain from a source found for one (metric, sign)."""

    hops: int  # the shortest chain's length
    chains: int  # how many chains of 1 to hop_limit influences there are
    shortest: frozenset[tuple[str, ...]]  # the metrics along each shortest chain


def chains_by_walking(
    influences: Sequence[Influence], source: str, hop_limit: int = HOP_LIMIT
) -> dict[tuple[str, int], Walked]:
    """Every chain from ``source`` rising, walked influence by influence: a chain never comes
    back to its source, other cycles are followed up to ``hop_limit``."""
    found: dict[tuple[str, int], list[tuple[str, ...]]] = defaultdict(list)

    def walk(metric: str, sign: int, path: tuple[str, ...]) -> None:
        if len(path) > hop_limit:
            return
        for influence in influences:
            if influence.from_ != metric or influence.to == source:
                continue
            moved = sign * influence.sign
            chain = (*path, influence.to)
            found[(influence.to, moved)].append(chain)
            walk(influence.to, moved, chain)

    walk(source, 1, (source,))
    walked = {(source, 1): Walked(0, 1, frozenset({(source,)}))}
    for key, chains in found.items():
        hops = min(len(chain) - 1 for chain in chains)
        shortest = frozenset(chain for chain in chains if len(chain) - 1 == hops)
        walked[key] = Walked(hops, len(chains), shortest)
    return walked
