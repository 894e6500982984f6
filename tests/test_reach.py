"""The reach table (alignment_engine/reach.py) agrees with walking every chain by hand."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.model import Influence
from alignment_engine.reach import reach_table
from reach_oracle import chains_by_walking

METRICS = ["m0", "m1", "m2", "m3", "m4"]

influence_lists = st.lists(
    st.tuples(
        st.sampled_from(METRICS),
        st.sampled_from(METRICS),
        st.sampled_from([1, -1]),
        st.sampled_from([0.25, 0.5, 1.0]),
    ).filter(lambda edge: edge[0] != edge[1]),
    max_size=9,
)


def _influences(edges: list[tuple[str, str, int, float]]) -> list[Influence]:
    return [
        Influence.model_validate({"from": c, "to": e, "sign": s, "strength": w})
        for c, e, s, w in edges
    ]


@settings(max_examples=150, deadline=None)
@given(influence_lists, st.integers(min_value=1, max_value=4))
def test_hops_chain_counts_and_paths_match_walking_every_chain(
    edges: list[tuple[str, str, int, float]], hop_limit: int
) -> None:
    influences = _influences(edges)
    table = reach_table(influences, hop_limit, sources=METRICS)
    strengths = {(i.from_, i.to, i.sign): float(i.strength) for i in reversed(influences)}
    for source in METRICS:
        walked = chains_by_walking(influences, source, hop_limit)
        rows = [i for i in range(len(table)) if table.source_names[table.source[i]] == source]
        found = {(table.metric_names[table.metric[i]], int(table.sign[i])): i for i in rows}
        assert set(found) == set(walked)
        for key, row in found.items():
            expected = walked[key]
            assert int(table.hops[row]) == expected.hops
            assert int(table.paths[row]) == expected.chains
            assert table.path(row) in expected.shortest
            # the strength is the product along the chain the table chose
            steps = table.steps(row)
            product = 1.0
            for (cause, cause_sign), (effect, effect_sign) in itertools.pairwise(steps):
                product *= strengths[(cause, effect, cause_sign * effect_sign)]
            assert math.isclose(float(table.strength[row]), product)
