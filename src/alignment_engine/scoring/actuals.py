"""Actual results for one period: checked row by row, then resolved to one value per KPI.

Input rows are ``period,scope,kpi,actual`` (KPI results) and/or ``period,scope,measure,value``
(base measures, for metrics with a formula); one table may hold both kinds, a row being the kind
whose name column it fills.

Resolution, for each KPI:

1. a KPI row for exactly the period;
2. else its sub-periods, aggregated by the metric's ``aggregation`` (sum, mean, last, min, max):
   a quarter from its 3 months, a year from its 4 quarters (each an exact row or its 3 months).
   Only complete sets count: two months of a quarter are not a quarter;
3. else, when the metric has a formula, the formula over the scope's base measures, each measure
   resolved as in 1-2 (aggregated by the metric of that name's aggregation, else summed) *before*
   the formula, so a quarter's margin is the quarter's profit over the quarter's revenue.

A period's own row and complete sub-periods giving another value (a 2026-Q3 row of 99 next to
July, August and September summing to 25.5) contradict each other: which one is right is the
user's call, so it is an error naming both, not a silent preference. Sub-periods that do not
make up the period (July alone next to the quarter) or agree with its row are not a contradiction,
and only the scored period and the periods inside it are compared: a year's total may sit next
to its months while a quarter is scored.

Sums and means of sub-periods and formula results are rounded to 12 significant digits
(:mod:`.precision`), so that 7.8486 + 8.5503 + 9.1011 reads 25.5.

Rows for other periods are ignored. What is still missing is returned, not raised: the policy's
``missing`` setting decides (see :mod:`alignment_engine.scoring.missing`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from alignment_engine.errors import InputError, Problem
from alignment_engine.model.plan import Plan
from alignment_engine.scoring.catalogue import KpiCatalogue
from alignment_engine.scoring.formula import Formula
from alignment_engine.scoring.periods import Period, parse_period
from alignment_engine.scoring.precision import round_significant
from alignment_engine.scoring.tables import (
    MAX_PROBLEMS_PER_CHECK,
    SMALL_TABLE_ROWS,
    ProblemCollector,
    TableSource,
    is_in,
    looked_up,
    numeric_column,
    require_columns,
    row_problem,
    suggestion_for,
    text_column,
)

FloatArray = npt.NDArray[np.float64]

_KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class ActualRows:
    """Checked rows: ``key`` (KPI id, or scope + measure), ``period`` label, ``value``, plus the
    parsed periods by label."""

    kpis: pd.DataFrame  # columns: key, period, value, line, file
    measures: pd.DataFrame  # columns: key, scope, measure, period, value, line, file
    periods: dict[str, Period]

    def kpis_in(self, period: Period) -> pd.DataFrame:
        return self.kpis[self._inside(self.kpis, period)]

    def measures_in(self, period: Period) -> pd.DataFrame:
        return self.measures[self._inside(self.measures, period)]

    def _inside(self, rows: pd.DataFrame, period: Period) -> npt.NDArray[np.bool_]:
        # One containment test per distinct label, then a vectorised lookup per row.
        inside = {label: period.contains(p) for label, p in self.periods.items()}
        return rows["period"].map(inside).eq(True).to_numpy(dtype=np.bool_)


@dataclass(frozen=True)
class MissingActual:
    scope: str
    kpi: str
    period: str
    detail: str = ""

    def describe(self) -> str:
        text = f"scope '{self.scope}', kpi '{self.kpi}', period {self.period}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class ResolvedActuals:
    actual: FloatArray  # one per catalogue row; NaN where missing
    source: tuple[str, ...]  # how each value was found, for explanations
    missing: tuple[MissingActual, ...]


def measure_key(scope: str, measure: str) -> str:
    return f"{scope}{_KEY_SEPARATOR}{measure}"


def check_actual_rows(
    frames: Sequence[pd.DataFrame], plan: Plan, catalogue: KpiCatalogue
) -> ActualRows:
    """Check every row; raise one InputError listing all bad rows (file and row number)."""
    kpi_parts: list[pd.DataFrame] = []
    measure_parts: list[pd.DataFrame] = []
    periods: dict[str, Period] = {}
    problems: list[Problem] = []
    for frame in frames:
        try:
            kpi_rows, measure_rows = _check_frame(frame, plan, catalogue, periods)
        except InputError as error:
            problems.extend(error.problems)
            continue
        kpi_parts.append(kpi_rows)
        measure_parts.append(measure_rows)
    if problems:
        raise InputError(problems=problems)
    kpis = _stacked(kpi_parts) if kpi_parts else _empty_kpi_rows()
    measures = _stacked(measure_parts) if measure_parts else _empty_measure_rows()
    _check_duplicates(kpis, ["key", "period"], "kpi")
    _check_duplicates(measures, ["key", "period"], "measure")
    return ActualRows(kpis=kpis, measures=measures, periods=periods)


def _stacked(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _empty_kpi_rows() -> pd.DataFrame:
    return pd.DataFrame({"key": [], "period": [], "value": [], "line": [], "file": []})


def _empty_measure_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {"key": [], "scope": [], "measure": [], "period": [], "value": [], "line": [], "file": []}
    )


def _check_frame(
    frame: pd.DataFrame, plan: Plan, catalogue: KpiCatalogue, periods: dict[str, Period]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    source = TableSource.of(frame, "actuals")
    columns = {str(c) for c in frame.columns}
    has_kpis = {"kpi", "actual"} <= columns
    has_measures = {"measure", "value"} <= columns
    if not has_kpis and not has_measures:
        required = (
            ["period", "scope", "measure", "value"]
            if "measure" in columns
            else ["period", "scope", "kpi", "actual"]
        )
        require_columns(frame, source, required)
    require_columns(frame, source, ["period", "scope"])
    collector = ProblemCollector(source)
    size = len(frame)

    labels = _period_labels(frame, collector, periods)
    scopes = text_column(frame, "scope")
    known_scopes = set(catalogue.scope_kinds)
    empty_scope = pd.isna(scopes)
    unknown_scope = ~empty_scope & ~is_in(scopes, known_scopes)
    collector.add_rows(empty_scope, "scope", lambda _: ("empty", None))
    collector.add_rows(
        unknown_scope,
        "scope",
        lambda i: (
            f"'{scopes[i]}' is not 'company', a department or a shared goal of plan '{plan.id}'",
            suggestion_for(str(scopes[i]), known_scopes),
        ),
    )

    kpi_names = text_column(frame, "kpi") if has_kpis else np.full(size, None, dtype=object)
    measure_names = (
        text_column(frame, "measure") if has_measures else np.full(size, None, dtype=object)
    )
    is_kpi_row = ~pd.isna(kpi_names)
    is_measure_row = ~pd.isna(measure_names)
    both = is_kpi_row & is_measure_row
    neither = ~is_kpi_row & ~is_measure_row
    collector.add_rows(both, "kpi", lambda _: ("a row names a kpi or a measure, not both", None))
    names = "kpi" if not has_measures else ("measure" if not has_kpis else "kpi or measure")
    collector.add_rows(neither, names, lambda _: ("empty", None))

    if has_kpis:
        _check_kpi_names(collector, scopes, kpi_names, is_kpi_row & ~unknown_scope, catalogue)
    if has_measures:
        _check_measure_names(collector, measure_names, is_measure_row & ~unknown_scope, plan)

    values = np.full(size, np.nan)
    for flag, column in ((is_kpi_row, "actual"), (is_measure_row, "value")):
        if column not in columns:
            continue
        numbers, _empty, not_a_number = numeric_column(frame, column)
        raw: npt.NDArray[np.object_] = frame[column].to_numpy(dtype=object)

        def not_number(i: int, cells: npt.NDArray[np.object_] = raw) -> tuple[str, None]:
            return f"{cells[i]!r} is not a number", None

        collector.add_rows(flag & not_a_number, column, not_number)
        infinite = flag & np.isinf(numbers)
        collector.add_rows(infinite, column, lambda i: ("must be a finite number", None))
        values = np.where(flag, numbers, values)
    collector.raise_if_any()

    lines = np.arange(size, dtype=np.int64) + source.row_offset
    file_names = np.full(size, source.name, dtype=object)
    # An empty actual is no result (the policy's `missing` decides), not a zero.
    kept = ~np.isnan(values)
    kpi_mask = is_kpi_row & kept
    kpi_rows = pd.DataFrame(
        {
            "key": kpi_names[kpi_mask],
            "period": labels[kpi_mask],
            "value": values[kpi_mask],
            "line": lines[kpi_mask],
            "file": file_names[kpi_mask],
        }
    )
    measure_mask = is_measure_row & kept
    measure_rows = pd.DataFrame(
        {
            "key": [
                measure_key(s, m)
                for s, m in zip(scopes[measure_mask], measure_names[measure_mask], strict=True)
            ],
            "scope": scopes[measure_mask],
            "measure": measure_names[measure_mask],
            "period": labels[measure_mask],
            "value": values[measure_mask],
            "line": lines[measure_mask],
            "file": file_names[measure_mask],
        }
    )
    return kpi_rows, measure_rows


def _period_labels(
    frame: pd.DataFrame, collector: ProblemCollector, periods: dict[str, Period]
) -> npt.NDArray[np.object_]:
    """Canonical period labels (``2026-7`` becomes ``2026-07``); bad periods are reported."""
    raw = frame["period"].to_numpy(dtype=object)
    canonical: dict[object, str | None] = {}
    for value in pd.unique(raw):
        try:
            period = parse_period(value)
        except ValueError:
            canonical[value] = None
            continue
        periods[period.label] = period
        canonical[value] = period.label
    labels = np.array([canonical.get(v) for v in raw], dtype=object)
    bad = np.array([label is None for label in labels], dtype=np.bool_)
    collector.add_rows(
        bad,
        "period",
        lambda i: (f"{raw[i]!r} is not a period (use 2026, 2026-Q3 or 2026-07)", None),
    )
    return labels


def _check_kpi_names(
    collector: ProblemCollector,
    scopes: npt.NDArray[np.object_],
    kpis: npt.NDArray[np.object_],
    rows: npt.NDArray[np.bool_],
    catalogue: KpiCatalogue,
) -> None:
    owner = {e.kpi.id: e.scope for e in catalogue.entries}
    owners = looked_up(kpis, owner)
    wrong = rows & ((owners != scopes) | pd.isna(owners))

    def describe(i: int) -> tuple[str, str | None]:
        scope, kpi = str(scopes[i]), str(kpis[i])
        if scopes[i] is None:  # the empty scope is reported on its own
            if kpi in owner:
                return f"'{kpi}' is a KPI of '{owner[kpi]}'", f"give scope '{owner[kpi]}'"
            return f"'{kpi}' is not a KPI of the plan", suggestion_for(kpi, owner)
        if kpi in owner:
            return f"'{kpi}' is a KPI of '{owner[kpi]}', not of '{scope}'", None
        if catalogue.scope_kinds.get(scope) == "shared":
            return (
                f"'{kpi}' is not shared goal '{scope}' (a shared goal's kpi is its own id)",
                f"did you mean '{scope}'?",
            )
        own = catalogue.kpis_of(scope)
        return (
            f"'{kpi}' is not a KPI of '{scope}'",
            suggestion_for(kpi, own) or suggestion_for(kpi, owner),
        )

    collector.add_rows(wrong, "kpi", describe)


def formula_measures(plan: Plan) -> set[str]:
    """Every name used in a metric formula: the base measures an actuals table may give."""
    names: set[str] = set()
    for metric in plan.metrics:
        if metric.formula:
            names.update(Formula(metric.formula).names)
    return names


def _check_measure_names(
    collector: ProblemCollector,
    measures: npt.NDArray[np.object_],
    rows: npt.NDArray[np.bool_],
    plan: Plan,
) -> None:
    known = formula_measures(plan)
    unknown = rows & ~is_in(measures, known)
    collector.add_rows(
        unknown,
        "measure",
        lambda i: (
            f"'{measures[i]}' is not used by any metric formula of plan '{plan.id}'"
            + (f" (formulas use: {', '.join(sorted(known))})" if known else ""),
            suggestion_for(str(measures[i]), known),
        ),
    )


def _check_duplicates(rows: pd.DataFrame, keys: list[str], what: str) -> None:
    if rows.empty:
        return
    if len(rows) <= SMALL_TABLE_ROWS:
        seen: dict[tuple[object, ...], int] = {}
        combined = zip(*(rows[key].tolist() for key in keys), strict=True)
        if len({seen.setdefault(k, i) for i, k in enumerate(combined)}) == len(rows):
            return
    duplicated = rows.duplicated(subset=keys, keep="first").to_numpy()
    if not duplicated.any():
        return
    first_line = rows.groupby(keys, sort=False)["line"].transform("first").to_numpy()
    first_file = rows.groupby(keys, sort=False)["file"].transform("first").to_numpy()
    problems: list[Problem] = []
    positions = np.flatnonzero(duplicated)
    for position in positions[:MAX_PROBLEMS_PER_CHECK]:
        row = rows.iloc[int(position)]
        key = str(row["key"]).replace(_KEY_SEPARATOR, "', measure '")
        label = "scope" if what == "measure" else "kpi"
        problems.append(
            row_problem(
                str(row["file"]),
                int(row["line"]),
                what,
                f"duplicate row for {label} '{key}', period {row['period']} "
                f"(first at {first_file[position]} row {first_line[position]})",
            )
        )
    if positions.size > MAX_PROBLEMS_PER_CHECK:
        problems.append(
            Problem(
                message=f"... and {positions.size - MAX_PROBLEMS_PER_CHECK} more duplicate rows"
            )
        )
    raise InputError(problems=problems)


# Resolution ---------------------------------------------------------------------------------


def _aggregate(values: Sequence[float], how: str) -> float:
    """Sub-period values (in period order) made into the period's value."""
    if how == "last":
        return values[-1]
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    if how == "sum":
        return _exact_sum(values)
    if how == "mean":
        return _exact_sum(values) / len(values)
    raise ValueError(f"unknown aggregation {how!r}")


def _exact_sum(values: Sequence[float]) -> float:
    """The exactly rounded sum (``math.fsum``); beyond the float range, infinity as a plain sum
    gives it (fsum raises there), so an absurd total is reported, not a crash."""
    try:
        return math.fsum(values)
    except OverflowError:
        return float(sum(values))


@dataclass(frozen=True)
class Overlap:
    """A period's own row next to finer rows that make up the same period with another value."""

    key: str
    period: str  # the label of the row's period
    value: float  # what the finer rows make of it
    rule: str  # how they were aggregated (sum, mean, last, min, max)


PeriodValues = Mapping[str, Mapping[str, float]]
"""Values by period label, then by key (a KPI id, or scope + measure)."""


def values_by_period(rows: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Checked rows (one per key and period) as :data:`PeriodValues`. A few rows per KPI and
    period: plain dicts cost less here than any frame operation."""
    table: dict[str, dict[str, float]] = {}
    for key, label, value in zip(
        rows["key"].tolist(), rows["period"].tolist(), rows["value"].tolist(), strict=True
    ):
        table.setdefault(label, {})[key] = value
    return table


def resolve_values(
    rows: PeriodValues,
    period: Period,
    aggregation: Mapping[str, str],
    default_aggregation: str,
) -> tuple[dict[str, float], dict[str, str], list[Overlap]]:
    """Values for ``period`` per key: exact rows, else complete sub-periods aggregated.

    Returns (value by key, how by key, overlaps); ``how`` says where each value came from.
    An exact row whose complete sub-periods give another value is an :class:`Overlap` (the
    exact row's value is still returned); equal values are not, since either gives the same.
    """
    values = dict(rows.get(period.label, {}))
    how = dict.fromkeys(values, f"reported for {period.label}")
    overlaps: list[Overlap] = []
    subs = period.sub_periods()
    if not subs:
        return values, how, overlaps
    parts: list[dict[str, float]] = []
    for sub in subs:
        sub_values, _, inner = resolve_values(rows, sub, aggregation, default_aggregation)
        overlaps.extend(inner)
        parts.append(sub_values)
    # Keys in the order they first appear, period by period; only complete sets count.
    keys = dict.fromkeys(key for part in parts for key in part)
    complete = [key for key in keys if all(key in part for part in parts)]
    if not complete:
        return values, how, overlaps
    rules = {key: aggregation.get(key, default_aggregation) for key in complete}
    unit = "months" if subs[0].kind == "month" else "quarters"
    combined: dict[str, float] = {}
    for name in sorted(set(rules.values())):
        chosen = [key for key in complete if rules[key] == name]
        raw = np.array([_aggregate([part[key] for part in parts], name) for key in chosen])
        result = round_significant(raw) if name in ("sum", "mean") else raw
        for key, value in zip(chosen, result.tolist(), strict=True):
            reported = values.get(key)
            if reported is None:  # a period's own row wins over its sub-periods
                combined[key] = value
                how[key] = f"{name} of the {len(subs)} {unit} of {period.label}"
            elif round_significant(reported) != round_significant(value):
                # Compared as decimals: 25.5 given for the quarter agrees with
                # 7.8486 + 8.5503 + 9.1011.
                overlaps.append(Overlap(str(key), period.label, float(value), name))
    values.update(combined)
    return values, how, overlaps


def resolve_actuals(
    rows: ActualRows, plan: Plan, catalogue: KpiCatalogue, period: Period
) -> ResolvedActuals:
    """One value per catalogue row for ``period`` (NaN where nothing resolves); raises
    InputError when a period's own row contradicts its sub-periods (naming the rows), or when a
    formula divides by zero (naming the scope and period)."""
    metrics = {m.id: m for m in plan.metrics}
    kpi_aggregation = {
        e.kpi.id: str(e.metric.aggregation) if e.metric is not None else "mean"
        for e in catalogue.entries
    }
    in_period = rows.kpis_in(period)
    values, how, overlaps = resolve_values(
        values_by_period(in_period), period, kpi_aggregation, "mean"
    )
    _raise_overlaps(overlaps, in_period, rows.periods, lambda key: key)
    ids = [e.kpi.id for e in catalogue.entries]
    actual = np.array([values.get(kpi, np.nan) for kpi in ids], dtype=np.float64)
    source = [how.get(kpi, "") for kpi in ids]

    formula_rows = [
        row
        for row, e in enumerate(catalogue.entries)
        if np.isnan(actual[row]) and e.metric is not None and e.metric.formula
    ]
    measure_notes: dict[int, str] = {}
    if formula_rows:
        measure_values = _resolve_measures(rows.measures_in(period), rows.periods, metrics, period)
        _apply_formulas(
            formula_rows, catalogue, measure_values, period, actual, source, measure_notes
        )

    missing_rows = [row for row in range(len(catalogue)) if np.isnan(actual[row])]
    found = _periods_found(in_period, [ids[row] for row in missing_rows])
    missing = []
    for row in missing_rows:
        entry = catalogue.entries[row]
        detail = measure_notes.get(row)
        if detail is None:
            labels = found.get(entry.kpi.id)
            detail = (
                f"only {', '.join(labels)} found, which do not make up {period.label}"
                if labels
                else "no rows for this period or its months/quarters"
            )
        source[row] = f"missing: {detail}"
        missing.append(MissingActual(entry.scope, entry.kpi.id, period.label, detail))
    return ResolvedActuals(actual=actual, source=tuple(source), missing=tuple(missing))


def _resolve_measures(
    in_period: pd.DataFrame,
    periods: Mapping[str, Period],
    metrics: Mapping[str, object],
    period: Period,
) -> dict[str, float]:
    if in_period.empty:
        return {}
    aggregation: dict[str, str] = {}
    for key, name in zip(in_period["key"], in_period["measure"], strict=True):
        metric = metrics.get(name)
        rule = getattr(metric, "aggregation", None)
        if rule is not None:
            aggregation[key] = str(rule)
    values, _, overlaps = resolve_values(values_by_period(in_period), period, aggregation, "sum")
    _raise_overlaps(
        overlaps,
        in_period,
        periods,
        lambda key: "measure '{1}' of scope '{0}'".format(*key.split(_KEY_SEPARATOR)),
    )
    return values


def _apply_formulas(
    formula_rows: list[int],
    catalogue: KpiCatalogue,
    measure_values: Mapping[str, float],
    period: Period,
    actual: FloatArray,
    source: list[str],
    notes: dict[int, str],
) -> None:
    by_formula: dict[str, list[int]] = {}
    for row in formula_rows:
        metric = catalogue.entries[row].metric
        if metric is not None and metric.formula:
            by_formula.setdefault(metric.formula, []).append(row)
    problems: list[Problem] = []
    for text, formula_row_ids in by_formula.items():
        formula = Formula(text)
        scopes = [catalogue.entries[r].scope for r in formula_row_ids]
        bound = {
            name: np.array(
                [measure_values.get(measure_key(s, name), np.nan) for s in scopes],
                dtype=np.float64,
            )
            for name in formula.names
        }
        result = formula.evaluate(bound)
        computed = round_significant(result.values)
        for position, row in enumerate(formula_row_ids):
            absent = [n for n in formula.names if np.isnan(bound[n][position])]
            entry = catalogue.entries[row]
            if absent:
                notes[row] = f"no actual, and formula '{text}' lacks measure(s) " + ", ".join(
                    f"'{n}'" for n in absent
                )
                continue
            if result.divided_by_zero[position]:
                shown = ", ".join(f"{n} = {bound[n][position]:g}" for n in formula.names)
                problems.append(
                    Problem(
                        message=(
                            f"scope '{entry.scope}', period {period.label}: formula '{text}' "
                            f"of KPI '{entry.kpi.id}' divides by zero ({shown})"
                        ),
                        key="measure",
                    )
                )
                continue
            actual[row] = computed[position]
            source[row] = f"formula {text}"
    if problems:
        raise InputError(problems=problems)


def _periods_found(rows: pd.DataFrame, kpi_ids: list[str]) -> dict[str, list[str]]:
    """For missing results: the periods inside the scored period that did have rows."""
    if not kpi_ids or rows.empty:
        return {}
    present = rows[rows["key"].isin(kpi_ids)]
    return {
        str(key): sorted(set(labels))
        for key, labels in present.groupby("key", sort=False)["period"]
    }


_FINER = {"quarter": "quarterly", "month": "monthly"}


def _raise_overlaps(
    overlaps: Sequence[Overlap],
    rows: pd.DataFrame,
    periods: Mapping[str, Period],
    name: Callable[[str], str],
) -> None:
    """One InputError naming, for each overlap, the period's own row and the finer rows."""
    if not overlaps:
        return
    keys = {o.key for o in overlaps}
    rows_of = {key: group for key, group in rows.groupby("key", sort=False) if key in keys}
    located: list[tuple[str, int, Problem]] = []
    for overlap in overlaps:
        own = rows_of[overlap.key]
        outer = periods[overlap.period]
        labels = own["period"].tolist()
        row = own.iloc[labels.index(overlap.period)]
        inside = own[[p != outer.label and outer.contains(periods[p]) for p in labels]]
        kinds = sorted({periods[p].kind for p in inside["period"]}, key=list(_FINER).index)
        file, line = str(row["file"]), int(row["line"])
        cited = _cite_rows(file, inside["file"].tolist(), inside["line"].tolist())
        message = (
            f"{name(overlap.key)} has a {overlap.period} row ({row['value']:.12g}) and "
            f"{' and '.join(_FINER[k] for k in kinds)} rows ({cited}: {overlap.rule} "
            f"{overlap.value:.12g}) for the same period: give one or the other"
        )
        located.append((file, line, row_problem(file, line, "period", message)))
    located.sort(key=lambda item: item[:2])
    problems = [problem for _, _, problem in located[:MAX_PROBLEMS_PER_CHECK]]
    hidden = len(located) - len(problems)
    if hidden > 0:
        problems.append(
            Problem(message=f"... and {hidden} more rows with the same kind of problem")
        )
    raise InputError(problems=problems)


def _cite_rows(file: str, files: Sequence[str], lines: Sequence[int]) -> str:
    """``rows 4, 5, 6`` in ``file``; rows of another table are cited with its name."""
    by_file: dict[str, list[int]] = {}
    for other, line in sorted(zip(files, lines, strict=True), key=lambda fl: (fl[0] != file, fl)):
        by_file.setdefault(other, []).append(int(line))
    parts = []
    for other, numbers in by_file.items():
        text = ("row " if len(numbers) == 1 else "rows ") + ", ".join(map(str, numbers))
        parts.append(text if other == file else f"{other} {text}")
    return "; ".join(parts)
