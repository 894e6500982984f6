"""Missing actuals: whether scoring may go on, and what to tell the user when it may not.

A few missing results are a gap in the data, and the policy's ``missing`` decides: ``error``
lists them and offers ``zero`` or ``exclude``. Most (or all) results missing while the actuals
hold other periods is more likely a wrong ``--period``: then the first message says which
periods the actuals do hold, with the one that resolves the most results as a did-you-mean, and
``zero``/``exclude`` are not offered (they would pay everyone nothing for a typo). When not a
single result resolves for the period, this is an error whatever ``missing`` says.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from alignment_engine.errors import InputError, Problem
from alignment_engine.model.plan import Plan
from alignment_engine.scoring.actuals import ActualRows, ResolvedActuals, resolve_actuals
from alignment_engine.scoring.catalogue import KpiCatalogue
from alignment_engine.scoring.periods import Period
from alignment_engine.scoring.tables import MAX_PROBLEMS_PER_CHECK

# Candidate periods resolved in full when looking for a did-you-mean, best guesses first.
_CANDIDATES_RESOLVED = 4
# Periods named when listing what the actuals hold; the rest are counted.
_PERIODS_LISTED = 12


def check_missing(
    resolved: ResolvedActuals,
    rows: ActualRows,
    plan: Plan,
    catalogue: KpiCatalogue,
    period: Period,
    *,
    source: str,
    mode: str,
) -> None:
    """Raise InputError when missing results stop scoring ``period`` under ``missing: mode``."""
    if not resolved.missing:
        return
    total = len(catalogue)
    found = total - len(resolved.missing)
    fiscal = _fiscal_note(plan, period)
    headline = _wrong_period(rows, plan, catalogue, period, found, total, fiscal, source)
    if headline is None:
        if mode == "error":
            _raise_gaps(resolved, period, source, fiscal)
        return
    if mode != "error" and found > 0:
        return
    problems = [headline]
    if _has_rows_in(rows, period):  # else listing every KPI as missing says nothing more
        problems.extend(_listed(resolved, source))
    problems.append(
        Problem(
            message=(
                f"{len(resolved.missing)} KPI result(s) missing for {period.label}{fiscal}: "
                "check --period and the actuals"
            ),
            file=source,
        )
    )
    raise InputError(problems=problems)


def _raise_gaps(resolved: ResolvedActuals, period: Period, source: str, fiscal: str) -> None:
    raise InputError(
        problems=[
            *_listed(resolved, source),
            Problem(
                message=(
                    f"{len(resolved.missing)} KPI result(s) missing for {period.label}{fiscal}; "
                    "add them, or set the policy's 'missing' to 'zero' or 'exclude'"
                ),
                file=source,
            ),
        ]
    )


def _listed(resolved: ResolvedActuals, source: str) -> list[Problem]:
    listed = [
        Problem(message=f"missing actual: {m.describe()}", file=source)
        for m in resolved.missing[:MAX_PROBLEMS_PER_CHECK]
    ]
    hidden = len(resolved.missing) - len(listed)
    if hidden > 0:
        listed.append(Problem(message=f"... and {hidden} more missing actuals", file=source))
    return listed


def _fiscal_note(plan: Plan, period: Period) -> str:
    if plan.fiscal_year is None or period.year == plan.fiscal_year:
        return ""
    return f" (outside the plan's fiscal_year {plan.fiscal_year})"


def _has_rows_in(rows: ActualRows, period: Period) -> bool:
    return not (rows.kpis_in(period).empty and rows.measures_in(period).empty)


def _wrong_period(
    rows: ActualRows,
    plan: Plan,
    catalogue: KpiCatalogue,
    period: Period,
    found: int,
    total: int,
    fiscal: str,
    source: str,
) -> Problem | None:
    """The first message when the period looks wrong, or None when it looks right: results are
    found for most KPIs, or the actuals hold nothing but this period."""
    if found > 0 and 2 * found >= total:
        return None
    held = _held_periods(rows)
    if all(p == period for p in held):
        return None
    if not _has_rows_in(rows, period):
        what = f"no actuals for {period.label}{fiscal}"
    else:
        share = "only " if found else ""
        what = f"{share}{found} of {total} KPI results found for {period.label}{fiscal}"
    better = _best_period(rows, plan, catalogue, period, held, found)
    return Problem(
        message=f"{what}: the actuals hold {describe_periods(held)}",
        file=source,
        key="period",
        suggestion=None if better is None else f"did you mean --period {better.label}?",
    )


def _held_periods(rows: ActualRows) -> list[Period]:
    labels = set(rows.kpis["period"]) | set(rows.measures["period"])
    return sorted(rows.periods[label] for label in labels)


def _best_period(
    rows: ActualRows,
    plan: Plan,
    catalogue: KpiCatalogue,
    period: Period,
    held: Sequence[Period],
    found: int,
) -> Period | None:
    """The period (held, or made of held ones) that resolves the most KPI results, if more than
    ``period`` does. Candidates are ranked cheaply by how many KPIs and measures have rows in
    them (same kind as asked for, then nearest, on ties), and only the first few resolved."""
    candidates = set(held) | {a for p in held for a in p.enclosing()}
    candidates.discard(period)
    keys_by_label = pd.concat([rows.kpis[["key", "period"]], rows.measures[["key", "period"]]])
    keys_of = {
        label: set(keys) for label, keys in keys_by_label.groupby("period", sort=False)["key"]
    }

    def rank(candidate: Period) -> tuple[int, bool, int, str]:
        keys: set[str] = set()
        for label, these in keys_of.items():
            if candidate.contains(rows.periods[str(label)]):
                keys |= these
        distance = abs((candidate.start - period.start).days)
        return (-len(keys), candidate.kind != period.kind, distance, candidate.label)

    best: Period | None = None
    best_count = found
    for candidate in sorted(candidates, key=rank)[:_CANDIDATES_RESOLVED]:
        try:
            resolved = resolve_actuals(rows, plan, catalogue, candidate)
        except InputError:
            continue  # rows that contradict each other there: not a period to suggest
        count = int(np.count_nonzero(~np.isnan(resolved.actual)))
        if count > best_count:
            best, best_count = candidate, count
    return best


def describe_periods(periods: Sequence[Period]) -> str:
    """``2026-Q3 and the months 2026-07..2026-09``: years, quarters, then months, each in time
    order, with runs of three or more consecutive periods written ``first..last``."""
    items: list[str] = []
    for kind, prefix in (("year", "the year"), ("quarter", ""), ("month", "the month")):
        of_kind = sorted(p for p in periods if p.kind == kind)
        if not of_kind:
            continue
        texts = _runs(of_kind)
        if prefix:
            plural = "s" if len(of_kind) > 1 else ""
            texts[0] = f"{prefix}{plural} {texts[0]}"
        items.extend(texts)
    if len(items) > _PERIODS_LISTED:
        items = [*items[:_PERIODS_LISTED], f"{len(items) - _PERIODS_LISTED} more"]
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _runs(periods: Sequence[Period]) -> list[str]:
    """Consecutive periods (each starting the day after the last ended) as ``first..last``."""
    runs: list[list[Period]] = []
    for period in periods:
        if runs and (period.start - runs[-1][-1].end).days == 1:
            runs[-1].append(period)
        else:
            runs.append([period])
    texts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            texts.append(f"{run[0].label}..{run[-1].label}")
        else:
            texts.extend(p.label for p in run)
    return texts
