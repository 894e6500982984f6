"""KPI results drawn from distributions (``policy simulate --distributions F``).

One row per KPI (docs/file-formats.md, "Distributions"): ``normal`` (``mean``, ``sd``),
``lognormal`` (``mean`` and ``sd`` of the result itself, which stays above zero), ``uniform``
(``low``, ``high``), ``triangular`` (``low``, ``mode``, ``high``) or ``fixed`` (``mean``). A
``normal`` or ``lognormal`` with ``low``/``high`` is clipped to them. ``mean`` left empty is the
KPI's centre: its result in the actuals given, else its target. KPIs without a row stay at
their centre in every draw. Draws are independent between KPIs.

Draws come from numpy's PCG64 generator seeded with ``--seed``: the same seed, inputs and
numpy version give the same draws, value for value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from alignment_engine.errors import InputError, Problem
from alignment_engine.model.common import did_you_mean
from alignment_engine.scoring.catalogue import KpiCatalogue
from alignment_engine.scoring.tables import TableSource, row_problem

FloatArray = npt.NDArray[np.float64]

KINDS = ("normal", "lognormal", "uniform", "triangular", "fixed")
_NEEDS = {
    "normal": ("sd",),
    "lognormal": ("sd",),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "fixed": (),
}


@dataclass(frozen=True)
class KpiDistribution:
    kpi: str
    kind: str
    mean: float | None = None
    sd: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    file: str | None = None  # where the row is, for errors found when drawing
    row: int | None = None


def _cell(row: Mapping[Any, Any], column: str) -> float | None:
    value = row.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def check_distributions(frame: pd.DataFrame, catalogue: KpiCatalogue) -> list[KpiDistribution]:
    """Every row checked; one InputError lists every bad row (file, row and column)."""
    source = TableSource.of(frame, "distributions")
    problems: list[Problem] = []
    found: list[KpiDistribution] = []
    seen: dict[str, int] = {}
    for position, row in enumerate(frame.to_dict("records")):
        line = source.line(position)
        kpi = str(row["kpi"]).strip()
        kind = str(row["distribution"]).strip().lower()
        if kpi not in catalogue.row_of:
            problems.append(
                row_problem(
                    source.name,
                    line,
                    "kpi",
                    f"unknown KPI '{kpi}'",
                    did_you_mean(kpi, catalogue.row_of),
                )
            )
            continue
        if kpi in seen:
            problems.append(
                row_problem(
                    source.name, line, "kpi", f"KPI '{kpi}' already has a row (row {seen[kpi]})"
                )
            )
            continue
        seen[kpi] = line
        if kind not in KINDS:
            problems.append(
                row_problem(
                    source.name,
                    line,
                    "distribution",
                    f"'{kind}' is not a distribution; expected one of: {', '.join(KINDS)}",
                    did_you_mean(kind, KINDS),
                )
            )
            continue
        values = {c: _cell(row, c) for c in ("mean", "sd", "low", "mode", "high")}
        missing = [c for c in _NEEDS[kind] if values[c] is None]
        if missing:
            problems.append(
                row_problem(
                    source.name,
                    line,
                    missing[0],
                    f"a {kind} distribution needs {' and '.join(missing)}",
                )
            )
            continue
        said = _inconsistent(kind, values)
        if said is not None:
            problems.append(row_problem(source.name, line, said[0], said[1]))
            continue
        found.append(KpiDistribution(kpi=kpi, kind=kind, **values, file=source.name, row=line))
    if problems:
        raise InputError(problems=problems)
    return found


def _inconsistent(kind: str, values: dict[str, float | None]) -> tuple[str, str] | None:
    sd, low, mode, high = values["sd"], values["low"], values["mode"], values["high"]
    if sd is not None and sd < 0:
        return "sd", "sd must not be negative"
    if low is not None and high is not None and low > high:
        return "low", f"low {low:g} is above high {high:g}"
    if (
        kind == "triangular"
        and low is not None
        and high is not None
        and mode is not None
        and not low <= mode <= high
    ):
        return "mode", f"mode {mode:g} is not between low {low:g} and high {high:g}"
    if kind == "lognormal" and values["mean"] is not None and values["mean"] <= 0:
        return "mean", "a lognormal result stays above zero: give a mean above 0"
    return None


def draw_results(
    distributions: list[KpiDistribution],
    centre: FloatArray,
    catalogue: KpiCatalogue,
    draws: int,
    seed: int,
) -> FloatArray:
    """``(draws, K)`` results: each KPI with a distribution drawn from it, the others at
    ``centre`` (catalogue order). KPIs are drawn in catalogue order, so adding a row for one
    KPI does not change the draws of those before it."""
    generator = np.random.default_rng(seed)
    results = np.broadcast_to(centre, (draws, centre.shape[0])).copy()
    by_kpi = {d.kpi: d for d in distributions}
    for row, entry in enumerate(catalogue.entries):
        found = by_kpi.get(entry.kpi.id)
        if found is None:
            continue
        mean = found.mean if found.mean is not None else float(centre[row])
        if math.isnan(mean) and found.kind in ("normal", "lognormal", "fixed"):
            raise InputError(
                problems=[
                    row_problem(
                        found.file or "distributions",
                        found.row or 0,
                        "mean",
                        f"KPI '{entry.kpi.id}' has no result or target to centre its "
                        f"{found.kind} distribution on",
                        "give its mean",
                    )
                ]
            )
        results[:, row] = _draw(found, mean, generator, draws)
    return results


def _draw(
    found: KpiDistribution, mean: float, generator: np.random.Generator, n: int
) -> FloatArray:
    kind = found.kind
    if kind == "fixed":
        return np.full(n, mean)
    if kind == "uniform":
        assert found.low is not None and found.high is not None
        return generator.uniform(found.low, found.high, n)
    if kind == "triangular":
        assert found.low is not None and found.mode is not None and found.high is not None
        if found.low == found.high:
            return np.full(n, found.low)
        return generator.triangular(found.low, found.mode, found.high, n)
    sd = float(found.sd or 0.0)
    if kind == "normal":
        values = generator.normal(mean, sd, n)
    else:  # lognormal with the given mean and sd of the result
        if mean <= 0:
            raise InputError(
                problems=[
                    row_problem(
                        found.file or "distributions",
                        found.row or 0,
                        "mean",
                        f"KPI '{found.kpi}': a lognormal result stays above zero, but its "
                        f"centre (its result or target) is {mean:g}",
                        "give a mean above 0",
                    )
                ]
            )
        sigma2 = math.log1p((sd / mean) ** 2)
        values = generator.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), n)
    low = -np.inf if found.low is None else found.low
    high = np.inf if found.high is None else found.high
    clipped: FloatArray = np.clip(values, low, high)
    return clipped
