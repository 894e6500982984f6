"""Restatement adjustments: previous + adjustment = restated for every employee, to the unit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alignment_engine.scoring.restatement import restatement

_payouts = st.dictionaries(
    st.text(alphabet="ABCDE0123456789", min_size=1, max_size=4),
    st.integers(min_value=0, max_value=10**12),
    max_size=30,
)


@given(previous=_payouts, restated=_payouts, decimals=st.integers(min_value=0, max_value=3))
def test_previous_plus_adjustment_is_the_restated_payout(
    previous: dict[str, int], restated: dict[str, int], decimals: int
) -> None:
    change = restatement("r1", list(previous.items()), list(restated.items()), decimals)
    adjusted = {a.employee_id: a for a in change.adjustments}
    for employee in {*previous, *restated}:
        before, after = previous.get(employee, 0), restated.get(employee, 0)
        if before == after:
            assert employee not in adjusted  # only the payouts that change are listed
        else:
            item = adjusted[employee]
            assert item.previous_units + item.units == item.restated_units == after
            assert item.previous_units == before
    assert change.total_units == sum(restated.values()) - sum(previous.values())
    listed = change.adjustments_list()
    assert [a["employee_id"] for a in listed] == [a.employee_id for a in change.adjustments]
    for row, item in zip(listed, change.adjustments, strict=True):
        assert row["adjustment_text"].replace("-", "").replace(".", "").lstrip("0") == (
            str(abs(item.units)).lstrip("0")
        )


def test_an_employee_only_in_one_run_counts_zero_in_the_other() -> None:
    change = restatement("r1", [("E1", 1000), ("E2", 500)], [("E2", 700), ("E3", 300)], 2)
    assert [(a.employee_id, a.previous_units, a.restated_units) for a in change.adjustments] == [
        ("E2", 500, 700),
        ("E3", 0, 300),
        ("E1", 1000, 0),
    ]
    assert change.total_units == 0 - 1000 + 200 + 300
