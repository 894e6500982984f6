"""Pay that crosses periods: deferrals, advances and their true-up, and clawbacks.

A policy may hold back a share of each payout and release it later (``deferral``), pay an
advance each quarter and settle against the annual result (``advances``), and recover what a
restatement shows was overpaid from later payouts (``clawback``). What is still owed either way
is kept as *lots*: ``(employee_id, lot, origin, due)`` with an open balance in the policy's
smallest unit (cents):

- ``deferral``: held back from the payout of ``origin``; released by the first run of a period
  that starts on or after ``due`` starts.
- ``advance``: paid as an advance in ``origin``; settled by the run of the year ``due``.
- ``recovery``: a restatement of ``origin`` lowered a paid amount; taken from the payouts of
  the periods after ``origin`` up to ``due`` (the look-back's last period), oldest lot first,
  never more than a period pays; what is left when the look-back ends is written off.

A run's *entries* change lots (signed units: ``+`` opens a lot, ``-`` settles it) and are
stored with the run; a lot's balance is the sum of the entries of the runs that were final
(final, or superseded by a restatement: they were paid). This module is the arithmetic only:
which lots a run settles and what each employee is paid now, exact in integer units.

Cash paid by a run of a period, per employee::

    paid = payable - deferred + released - recovered      (never below zero)
    payable = payout                                       (no advances)
            = share x payout x days / days of the year     (advances, a quarter or a month)
            = max(payout - advanced, floor)                (advances, the year)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from alignment_engine.errors import InputError
from alignment_engine.scoring.money import format_units, to_units
from alignment_engine.scoring.periods import Period, parse_period, shifted, year

if TYPE_CHECKING:
    import pandas as pd

    from alignment_engine.model.policy import Policy

__all__ = [
    "LEDGER_COLUMNS",
    "LOT_COLUMNS",
    "LedgerTerms",
    "Settlement",
    "balances",
    "lot_periods",
    "lots_for",
    "settle_period",
    "settle_restatement",
]

IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

LOT_COLUMNS = ("employee_id", "lot", "origin", "due", "units")
"""An open-lots table: one row per lot with a positive balance."""
LEDGER_COLUMNS = ("employee_id", "lot", "origin", "due", "entry", "units")
"""A run's ledger entries; ``entry`` says what happened: ``deferred``, ``released``,
``advanced``, ``trued-up``, ``recovery``, ``recovered``, ``written-off``."""


@dataclass(frozen=True)
class LedgerTerms:
    """The policy's terms for pay across periods, in the policy's smallest unit."""

    decimals: int
    rounding: str
    deferral_share: float | None = None
    deferral_periods: int = 0
    clawback_lookback: int | None = None
    advance_share: float | None = None
    advance_floor_units: int = 0

    @classmethod
    def of(cls, policy: Policy) -> LedgerTerms:
        decimals = int(policy.rounding.decimals)
        floor = 0
        if policy.advances is not None:
            floor = int(to_units([float(policy.advances.floor)], decimals, "down")[0])
        return cls(
            decimals=decimals,
            rounding=str(policy.rounding.mode),
            deferral_share=None if policy.deferral is None else float(policy.deferral.share),
            deferral_periods=0 if policy.deferral is None else int(policy.deferral.periods),
            clawback_lookback=None if policy.clawback is None else int(policy.clawback.lookback),
            advance_share=None if policy.advances is None else float(policy.advances.share),
            advance_floor_units=floor,
        )

    @property
    def any(self) -> bool:
        return (
            self.deferral_share is not None
            or self.clawback_lookback is not None
            or self.advance_share is not None
        )

    def share_of(self, units: IntArray, share: float) -> IntArray:
        """``share`` of each amount, rounded by the policy's rule, within [0, amount]."""
        if units.size == 0:
            return np.zeros(0, dtype=np.int64)
        part = to_units(units.astype(np.float64) * share, 0, self.rounding)
        return np.clip(part, 0, np.maximum(units, 0)).astype(np.int64)


@dataclass(frozen=True)
class Settlement:
    """What one run pays now, per employee (arrays in the employee table's order), and the
    ledger entries it makes (sorted by employee, then as made)."""

    period: str
    decimals: int
    payout: IntArray  # the period's result: the payout after the pool and manual adjustments
    advanced: IntArray  # advances of the year settled by this (year) run
    payable: IntArray  # what the period's result pays before deferral
    deferred: IntArray
    released: IntArray
    recovered: IntArray
    paid: IntArray
    entries: pd.DataFrame  # LEDGER_COLUMNS plus ``employee`` (row in the employee table, -1)
    waiting: int  # lots due now for people this run does not pay (kept open)
    written_off: int  # units of recovery whose look-back ended unrecovered
    restatement: bool = False

    def totals(self) -> dict[str, Any]:
        decimals = self.decimals

        def amount(units: int) -> dict[str, Any]:
            return {"amount": units / 10**decimals, "text": format_units(units, decimals)}

        return {
            "payable": amount(int(self.payable.sum())),
            "advanced": amount(int(self.advanced.sum())),
            "deferred": amount(int(self.deferred.sum())),
            "released": amount(int(self.released.sum())),
            "recovered": amount(int(self.recovered.sum())),
            "written_off": amount(self.written_off),
            "to_recover": amount(self._opened("recovery")),
            "paid": amount(int(self.paid.sum())),
            "waiting_lots": self.waiting,
        }

    def _opened(self, entry: str) -> int:
        return int(
            self.entries["units"].to_numpy()[self.entries["entry"].to_numpy() == entry].sum()
        )

    def entries_of(self, index: int) -> list[dict[str, Any]]:
        """Employee ``index``'s ledger entries, in the order made."""
        codes = self.entries["employee"].to_numpy()
        start, stop = np.searchsorted(codes, [index, index + 1])
        if start == stop:
            return []
        rows = self.entries.iloc[int(start) : int(stop)]
        scale = 10**self.decimals
        return [
            {
                "entry": entry,
                "lot": lot,
                "origin": origin,
                "due": due,
                "amount": int(units) / scale,
            }
            for lot, origin, due, entry, units in zip(
                rows["lot"].tolist(),
                rows["origin"].tolist(),
                rows["due"].tolist(),
                rows["entry"].tolist(),
                rows["units"].tolist(),
                strict=True,
            )
        ]

    def explanation(self, index: int) -> dict[str, Any]:
        """The cross-period step of employee ``index``'s payout chain."""
        scale = 10**self.decimals
        return {
            "payout": int(self.payout[index]) / scale,
            "advanced": int(self.advanced[index]) / scale,
            "payable": int(self.payable[index]) / scale,
            "deferred": int(self.deferred[index]) / scale,
            "released": int(self.released[index]) / scale,
            "recovered": int(self.recovered[index]) / scale,
            "paid": int(self.paid[index]) / scale,
            "entries": self.entries_of(index),
        }


def lot_periods(labels: Sequence[str], source: str) -> dict[str, Period]:
    """Each distinct period label of a lots table, parsed once."""
    found: dict[str, Period] = {}
    for label in dict.fromkeys(labels):
        try:
            found[label] = parse_period(label)
        except ValueError as error:
            raise InputError(f"{source}: {error}", key="period") from None
    return found


def balances(entries: pd.DataFrame) -> pd.DataFrame:
    """Open lots (LOT_COLUMNS, positive balances) from ledger entries: what the store's query
    sums over the entries of the runs that were final."""
    import pandas as pd

    if not len(entries):
        return _empty_lots()
    summed = (
        entries.groupby(["employee_id", "lot", "origin", "due"], sort=True)["units"]
        .sum()
        .reset_index()
    )
    summed = summed[summed["units"] != 0]
    return pd.DataFrame(summed[list(LOT_COLUMNS)]).reset_index(drop=True)


@dataclass(frozen=True)
class _LotDates:
    """A lots table's kinds and periods as columns: each distinct period label parsed once
    (a million lots have a handful of periods)."""

    kind: ObjectArray
    origin: ObjectArray
    due: ObjectArray
    origin_start: npt.NDArray[np.datetime64]
    origin_end: npt.NDArray[np.datetime64]
    due_start: npt.NDArray[np.datetime64]

    @classmethod
    def of(cls, lots: pd.DataFrame) -> _LotDates:
        origin = lots["origin"].astype(str).to_numpy(dtype=object)
        due = lots["due"].astype(str).to_numpy(dtype=object)
        labels, codes = np.unique(np.concatenate([origin, due]).astype(str), return_inverse=True)
        periods = lot_periods(labels.tolist(), "ledger")
        starts = np.array([periods[t].start for t in labels.tolist()], dtype="datetime64[D]")
        ends = np.array([periods[t].end for t in labels.tolist()], dtype="datetime64[D]")
        origin_code, due_code = codes[: len(origin)], codes[len(origin) :]
        return cls(
            kind=lots["lot"].astype(str).to_numpy(dtype=object),
            origin=origin,
            due=due,
            origin_start=starts[origin_code],
            origin_end=ends[origin_code],
            due_start=starts[due_code],
        )


def lots_for(lots: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The open lots a run of ``period`` settles, in a stable order (employee, lot, origin,
    due): deferrals due by then, the year's advances in the year's run, and recoveries of
    earlier periods (taken, or written off once their look-back has ended)."""
    if not len(lots):
        return _empty_lots()
    dates = _LotDates.of(lots)
    start = np.datetime64(period.start, "D")
    keep: npt.NDArray[np.bool_] = np.asarray(
        ((dates.kind == "deferral") & (dates.due_start <= start) & (dates.origin_start < start))
        | ((dates.kind == "advance") & (period.kind == "year") & (dates.due == period.label))
        | ((dates.kind == "recovery") & (dates.origin_end < start)),
        dtype=np.bool_,
    )
    kept: pd.DataFrame = lots.loc[keep, list(LOT_COLUMNS)]
    kept = kept[kept["units"].to_numpy() > 0]
    return kept.sort_values(["employee_id", "lot", "origin", "due"], kind="stable").reset_index(
        drop=True
    )


def _empty_lots() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "units" else object) for c in LOT_COLUMNS}
    )


def _entries(parts: list[dict[str, Any]], employee_count: int) -> pd.DataFrame:
    import pandas as pd

    frames = [pd.DataFrame(p) for p in parts if len(p["units"])]
    if not frames:
        empty = {c: pd.Series(dtype=object) for c in LEDGER_COLUMNS}
        empty["units"] = pd.Series(dtype="int64")
        return pd.DataFrame({**empty, "employee": pd.Series(dtype="int64")})
    frame = pd.concat(frames, ignore_index=True)
    # Sorted by employee (stable: each person's entries stay in the order made), unknown last.
    key = np.where(frame["employee"].to_numpy() < 0, employee_count, frame["employee"].to_numpy())
    order = np.argsort(key, kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    frame["units"] = frame["units"].astype("int64")
    frame["employee"] = frame["employee"].astype("int64")
    return frame[[*LEDGER_COLUMNS, "employee"]]


def _part(
    employee: IntArray,
    employee_ids: ObjectArray,
    lot: str,
    origin: ObjectArray | str,
    due: ObjectArray | str,
    entry: str,
    units: IntArray,
) -> dict[str, Any]:
    keep = units != 0
    count = int(keep.sum())
    return {
        "employee_id": employee_ids[keep],
        "lot": np.full(count, lot, dtype=object),
        "origin": origin[keep]
        if isinstance(origin, np.ndarray)
        else np.full(count, origin, object),
        "due": due[keep] if isinstance(due, np.ndarray) else np.full(count, due, object),
        "entry": np.full(count, entry, dtype=object),
        "units": units[keep].astype(np.int64),
        "employee": employee[keep].astype(np.int64),
    }


def settle_period(
    terms: LedgerTerms,
    period: Period,
    employee_ids: ObjectArray,
    payout: IntArray,
    lots: pd.DataFrame | None,
) -> Settlement:
    """What a run of ``period`` pays now: advances or their true-up, deferral of this period's
    pay, release of deferrals now due, recovery of what restatements lowered; and the entries
    that record it. ``lots`` are the open lots (LOT_COLUMNS) before this run."""
    import pandas as pd

    count = len(employee_ids)
    payout = np.asarray(payout, dtype=np.int64)
    lots = _empty_lots() if lots is None else lots
    dates = _LotDates.of(lots)
    kind, origin_text, due_text = dates.kind, dates.origin, dates.due
    origin_start, origin_end, due_start = dates.origin_start, dates.origin_end, dates.due_start
    units = lots["units"].to_numpy(dtype=np.int64)
    lot_ids = lots["employee_id"].astype(str).to_numpy(dtype=object)
    employee = (
        pd.Index(employee_ids).get_indexer(pd.Index(lot_ids)).astype(np.int64)
        if len(lots)
        else np.zeros(0, dtype=np.int64)
    )
    known = employee >= 0
    start = np.datetime64(period.start, "D")
    label = period.label
    parts: list[dict[str, Any]] = []

    # Advances: a period shorter than a year pays its share now; the year settles them.
    advanced = np.zeros(count, dtype=np.int64)
    year_label = year(period.year).label
    settles = (kind == "advance") & (due_text == label) & (period.kind == "year")
    if settles.any():
        taken = settles & known
        np.add.at(advanced, employee[taken], units[taken])
        parts.append(
            _part(
                employee[taken],
                lot_ids[taken],
                "advance",
                origin_text[taken],
                due_text[taken],
                "trued-up",
                -units[taken],
            )
        )
    if terms.advance_share is not None and period.kind != "year":
        # Target bonuses are annual: a quarter's result counts for its part of the year.
        part = period.days / year(period.year).days
        payable = terms.share_of(payout, terms.advance_share * part)
        rows = np.arange(count, dtype=np.int64)
        parts.append(_part(rows, employee_ids, "advance", label, year_label, "advanced", payable))
    elif settles.any() or (terms.advance_share is not None and period.kind == "year"):
        payable = np.maximum(payout - advanced, terms.advance_floor_units)
    else:
        payable = payout.copy()

    deferred = np.zeros(count, dtype=np.int64)
    if terms.deferral_share is not None:
        deferred = terms.share_of(payable, terms.deferral_share)
        release_in = shifted(period, terms.deferral_periods).label
        parts.append(
            _part(
                np.arange(count, dtype=np.int64),
                employee_ids,
                "deferral",
                label,
                release_in,
                "deferred",
                deferred,
            )
        )

    released = np.zeros(count, dtype=np.int64)
    due = (kind == "deferral") & (due_start <= start) & (origin_start < start)
    waiting = int((due & ~known).sum()) + int((settles & ~known).sum())
    releasing = due & known
    np.add.at(released, employee[releasing], units[releasing])
    parts.append(
        _part(
            employee[releasing],
            lot_ids[releasing],
            "deferral",
            origin_text[releasing],
            due_text[releasing],
            "released",
            -units[releasing],
        )
    )

    gross = payable - deferred + released
    recovered = np.zeros(count, dtype=np.int64)
    is_recovery = kind == "recovery"
    expired = is_recovery & (due_start < start)
    active = is_recovery & ~expired & (origin_end < start) & known
    written_off = int(units[expired].sum())
    parts.append(
        _part(
            employee[expired],
            lot_ids[expired],
            "recovery",
            origin_text[expired],
            due_text[expired],
            "written-off",
            -units[expired],
        )
    )
    if active.any():
        rows = np.flatnonzero(active)
        # Oldest lot first within each employee: origin, then due, then the table's order.
        order = np.lexsort((rows, due_start[rows], origin_start[rows], employee[rows]))
        rows = rows[order]
        who = employee[rows]
        owed = units[rows]
        before = np.cumsum(owed) - owed
        first = np.r_[True, who[1:] != who[:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(rows.size), 0))
        owed_before = before - before[group_start]
        take = np.clip(np.maximum(gross[who], 0) - owed_before, 0, owed).astype(np.int64)
        np.add.at(recovered, who, take)
        parts.append(
            _part(
                who,
                lot_ids[rows],
                "recovery",
                origin_text[rows],
                due_text[rows],
                "recovered",
                -take,
            )
        )
        last = due_text[rows] == label  # the look-back ends with this period: the rest goes
        rest = np.where(last, owed - take, 0)
        written_off += int(rest.sum())
        parts.append(
            _part(
                who,
                lot_ids[rows],
                "recovery",
                origin_text[rows],
                due_text[rows],
                "written-off",
                -rest,
            )
        )
    paid = gross - recovered
    return Settlement(
        period=label,
        decimals=terms.decimals,
        payout=payout,
        advanced=advanced,
        payable=payable,
        deferred=deferred,
        released=released,
        recovered=recovered,
        paid=paid,
        entries=_entries(parts, count),
        waiting=waiting,
        written_off=written_off,
    )


def settle_restatement(
    terms: LedgerTerms,
    period: Period,
    employee_ids: ObjectArray,
    change: IntArray,
) -> Settlement:
    """What a restatement of ``period`` pays now for each employee's change (restated minus
    previous payout): a rise is paid, less the policy's deferral of it; a fall is recovered
    from later payouts within the look-back (``clawback``), else deducted now. Under advances,
    a restated quarter or month pays nothing now: the year's true-up settles on the annual
    result. A restatement settles no earlier lot: the run it restates already did."""
    count = len(employee_ids)
    change = np.asarray(change, dtype=np.int64)
    rows = np.arange(count, dtype=np.int64)
    zero = np.zeros(count, dtype=np.int64)
    label = period.label
    parts: list[dict[str, Any]] = []
    if terms.advance_share is not None and period.kind != "year":
        payable = zero.copy()
    else:
        payable = change.copy()
    rise = np.maximum(payable, 0)
    deferred = zero.copy()
    if terms.deferral_share is not None:
        deferred = terms.share_of(rise, terms.deferral_share)
        parts.append(
            _part(
                rows,
                employee_ids,
                "deferral",
                label,
                shifted(period, terms.deferral_periods).label,
                "deferred",
                deferred,
            )
        )
    fall = np.maximum(-payable, 0)
    recovery = zero.copy()
    if terms.clawback_lookback is not None:
        recovery = fall
        parts.append(
            _part(
                rows,
                employee_ids,
                "recovery",
                label,
                shifted(period, terms.clawback_lookback).label,
                "recovery",
                recovery,
            )
        )
    paid = payable - deferred + recovery  # a fall under clawback is not deducted now
    return Settlement(
        period=label,
        decimals=terms.decimals,
        payout=change,
        advanced=zero,
        payable=payable,
        deferred=deferred,
        released=zero,
        recovered=zero,
        paid=paid,
        entries=_entries(parts, count),
        waiting=0,
        written_off=0,
        restatement=True,
    )
