"""Pay across periods, as arithmetic (``scoring.ledger``): deferrals are released once and
exactly, clawbacks never make a period's pay negative, what is left of a recovery when its
look-back ends is written off, advances are trued up against the year; and over any sequence
of periods and restatements every employee's pay reconciles to the unit:

    what the periods and restatements earned
        = paid + deferred still held - recovery still owed - recovery written off
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.scoring.ledger import (
    LedgerTerms,
    Settlement,
    balances,
    lots_for,
    settle_period,
    settle_restatement,
)
from alignment_engine.scoring.periods import parse_period, quarter, shifted

EMPLOYEES = np.array(["E1", "E2", "E3"], dtype=object)


@dataclass
class Books:
    """Every run final in turn, as a payroll would make them; the ledger is their entries."""

    terms: LedgerTerms
    entries: list[pd.DataFrame] = field(default_factory=list)
    earned: dict[str, int] = field(default_factory=dict)
    paid: dict[str, int] = field(default_factory=dict)
    written_off: int = 0

    def ledger(self) -> pd.DataFrame:
        frames = [e for e in self.entries if len(e)]
        if not frames:
            return balances(pd.DataFrame(columns=["employee_id", "lot", "origin", "due", "units"]))
        return balances(pd.concat(frames, ignore_index=True))

    def book(self, settlement: Settlement, ids: np.ndarray, earned: np.ndarray) -> None:
        self.entries.append(settlement.entries)
        self.written_off += settlement.written_off
        for employee, got, made in zip(ids, settlement.paid, earned, strict=True):
            self.paid[employee] = self.paid.get(employee, 0) + int(got)
            self.earned[employee] = self.earned.get(employee, 0) + int(made)

    def run(self, period: str, payout: list[int]) -> Settlement:
        target = parse_period(period)
        units = np.array(payout, dtype=np.int64)
        done = settle_period(self.terms, target, EMPLOYEES, units, lots_for(self.ledger(), target))
        self.book(done, EMPLOYEES, done.payable)
        return done

    def restate(self, period: str, change: list[int]) -> Settlement:
        units = np.array(change, dtype=np.int64)
        done = settle_restatement(self.terms, parse_period(period), EMPLOYEES, units)
        self.book(done, EMPLOYEES, done.payable)
        return done

    def open_balance(self, lot: str) -> dict[str, int]:
        ledger = self.ledger()
        chosen = ledger[ledger["lot"] == lot]
        return {str(k): int(v) for k, v in chosen.groupby("employee_id")["units"].sum().items()}


def _terms(share: float | None = 0.25, periods: int = 2, lookback: int | None = 2) -> LedgerTerms:
    return LedgerTerms(
        decimals=2,
        rounding="half_up",
        deferral_share=share,
        deferral_periods=periods,
        clawback_lookback=lookback,
    )


_amounts = st.lists(st.integers(0, 5_000_000), min_size=3, max_size=3)
_changes = st.lists(st.integers(-5_000_000, 5_000_000), min_size=3, max_size=3)
_steps = st.lists(
    st.tuples(_amounts, st.none() | st.tuples(st.integers(1, 4), _changes)),
    min_size=1,
    max_size=10,
)


@settings(max_examples=150, deadline=None)
@given(
    steps=_steps,
    share=st.none() | st.sampled_from([0.1, 0.25, 1 / 3, 0.5, 1.0]),
    periods=st.integers(1, 4),
    lookback=st.integers(1, 4),
)
def test_pay_reconciles_over_periods_and_a_period_never_pays_below_zero(
    steps: list[tuple[list[int], tuple[int, list[int]] | None]],
    share: float | None,
    periods: int,
    lookback: int,
) -> None:
    books = Books(_terms(share, periods, lookback))
    first = quarter(2026, 1)
    for number, (payout, restatement) in enumerate(steps):
        period = shifted(first, number)
        done = books.run(period.label, payout)
        assert (done.paid >= 0).all(), "a clawback never takes a period's pay below zero"
        assert (done.paid == done.payable - done.deferred + done.released - done.recovered).all()
        assert (done.deferred >= 0).all() and (done.deferred <= done.payable).all()
        if restatement is not None:
            back, change = restatement
            restated = shifted(period, -min(back, number)) if number else period
            again = books.restate(restated.label, change)
            assert (again.paid >= 0).all()
    deferred = books.open_balance("deferral")
    owed = books.open_balance("recovery")
    for employee in EMPLOYEES:
        assert books.earned[employee] == (
            books.paid[employee]
            + deferred.get(employee, 0)
            - owed.get(employee, 0)
            - _written_off(books, employee)
        )


def _written_off(books: Books, employee: str) -> int:
    frames = [e for e in books.entries if len(e)]
    if not frames:
        return 0
    entries = pd.concat(frames, ignore_index=True)
    mine = entries[(entries["employee_id"] == employee) & (entries["entry"] == "written-off")]
    return -int(mine["units"].sum())


def test_a_deferral_is_released_once_in_the_period_it_falls_due() -> None:
    books = Books(_terms(share=0.25, periods=2, lookback=None))
    q1 = books.run("2026-Q1", [100_00, 0, 0])
    assert q1.deferred.tolist() == [25_00, 0, 0] and q1.paid.tolist() == [75_00, 0, 0]
    q2 = books.run("2026-Q2", [0, 0, 0])
    assert q2.released.tolist() == [0, 0, 0]
    q3 = books.run("2026-Q3", [0, 0, 0])
    assert q3.released.tolist() == [25_00, 0, 0] and q3.paid.tolist() == [25_00, 0, 0]
    q4 = books.run("2026-Q4", [0, 0, 0])
    assert q4.released.tolist() == [0, 0, 0], "released once"
    assert books.open_balance("deferral") == {}


def test_a_skipped_period_releases_what_fell_due_in_it_at_the_next_run() -> None:
    books = Books(_terms(share=0.5, periods=1, lookback=None))
    books.run("2026-Q1", [10_00, 0, 0])
    late = books.run("2026-Q3", [0, 0, 0])  # no run for 2026-Q2
    assert late.released.tolist() == [5_00, 0, 0]


def test_a_clawback_is_taken_over_later_periods_then_written_off_when_the_lookback_ends() -> None:
    books = Books(_terms(share=None, lookback=2))
    books.run("2026-Q1", [1_000_00, 0, 0])
    lowered = books.restate("2026-Q1", [-700_00, 0, 0])
    assert lowered.paid.tolist() == [0, 0, 0]  # nothing deducted now: recovered later
    q2 = books.run("2026-Q2", [300_00, 0, 0])
    assert q2.recovered.tolist() == [300_00, 0, 0] and q2.paid.tolist() == [0, 0, 0]
    q3 = books.run("2026-Q3", [250_00, 0, 0])  # the look-back's last period
    assert q3.recovered.tolist() == [250_00, 0, 0]
    assert q3.written_off == 150_00
    q4 = books.run("2026-Q4", [400_00, 0, 0])
    assert q4.recovered.tolist() == [0, 0, 0] and q4.paid.tolist() == [400_00, 0, 0]
    assert books.open_balance("recovery") == {}


def test_without_a_clawback_a_lowered_restatement_is_deducted_now() -> None:
    books = Books(_terms(share=None, lookback=None))
    books.run("2026-Q1", [1_000_00, 0, 0])
    assert books.restate("2026-Q1", [-700_00, 0, 0]).paid.tolist() == [-700_00, 0, 0]


def test_a_raised_restatement_defers_its_share_of_the_rise() -> None:
    books = Books(_terms(share=0.25, periods=4, lookback=2))
    books.run("2026-Q1", [1_000_00, 0, 0])
    raised = books.restate("2026-Q1", [400_00, 0, 0])
    assert raised.deferred.tolist() == [100_00, 0, 0] and raised.paid.tolist() == [300_00, 0, 0]
    assert books.open_balance("deferral") == {"E1": 350_00}


def test_recoveries_are_taken_oldest_first() -> None:
    books = Books(_terms(share=None, lookback=4))
    books.run("2026-Q1", [500_00, 0, 0])
    books.run("2026-Q2", [500_00, 0, 0])
    books.restate("2026-Q2", [-100_00, 0, 0])
    books.restate("2026-Q1", [-200_00, 0, 0])
    q3 = books.run("2026-Q3", [250_00, 0, 0])
    taken = q3.entries[q3.entries["entry"] == "recovered"]
    assert list(zip(taken["origin"], taken["units"], strict=True)) == [
        ("2026-Q1", -200_00),
        ("2026-Q2", -50_00),
    ]


def test_lots_of_people_not_paid_this_period_stay_open() -> None:
    books = Books(_terms(share=0.5, periods=1, lookback=None))
    books.run("2026-Q1", [100_00, 0, 0])
    lots = lots_for(books.ledger(), parse_period("2026-Q2"))
    done = settle_period(
        books.terms,
        parse_period("2026-Q2"),
        np.array(["E2"], dtype=object),
        np.array([0], dtype=np.int64),
        lots,
    )
    assert done.waiting == 1 and done.released.tolist() == [0]


@pytest.mark.parametrize("floor", [0, 50_00])
def test_advances_are_trued_up_against_the_annual_result(floor: int) -> None:
    terms = LedgerTerms(
        decimals=2, rounding="half_up", advance_share=0.5, advance_floor_units=floor
    )
    books = Books(terms)
    advanced = [0, 0, 0]
    for q in (1, 2, 3, 4):
        done = books.run(f"2026-Q{q}", [1_600_00, 1_200_00, 0])
        days = parse_period(f"2026-Q{q}").days
        # Half of the quarter's part of the year (target bonuses are annual), to the cent.
        share = [round(units * 0.5 * days / 365 + 1e-9) for units in (1_600_00, 1_200_00, 0)]
        assert done.paid.tolist() == share
        advanced = [a + s for a, s in zip(advanced, share, strict=True)]
    assert abs(advanced[0] - 800_00) <= 2 and abs(advanced[1] - 600_00) <= 2  # cents per quarter
    year = books.run("2026", [500_00, 1_300_00, 0])
    # E1 was advanced about 800 against an annual 500: nothing more (or the floor); E2 about
    # 600 of 1,300: the rest.
    assert year.advanced.tolist() == advanced
    assert year.paid.tolist() == [floor, 1_300_00 - advanced[1], floor]
    assert books.open_balance("advance") == {}
