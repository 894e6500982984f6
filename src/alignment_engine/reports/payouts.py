"""Payout distribution per department: a box plot of employee payouts (minimum, quartiles,
median, maximum), or bars of department payout factors when there are no employees."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from alignment_engine.i18n import _
from alignment_engine.model import Plan
from alignment_engine.reports.svg import element, esc, fmt, row_label, text_block

__all__ = ["amount", "payout_chart", "quantiles"]

WIDTH = 1100.0
LABEL_WIDTH = 180.0
STATS_WIDTH = 250.0
ROW_HEIGHT = 34.0
MAX_ROWS = 40


def quantiles(values: Sequence[float]) -> tuple[float, float, float, float, float]:
    """Minimum, first quartile, median, third quartile, maximum (linear interpolation)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")

    def at(fraction: float) -> float:
        position = fraction * (len(ordered) - 1)
        low = math.floor(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return ordered[0], at(0.25), at(0.5), at(0.75), ordered[-1]


def amount(value: float) -> str:
    """A short money amount: 1.2M, 35.4k, 980."""
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.2f}B"
    if size >= 1e6:
        return f"{value / 1e6:.2f}M"
    if size >= 1e4:
        return f"{value / 1e3:.1f}k"
    return f"{value:,.0f}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _ordered_departments(plan: Plan, found: Sequence[str]) -> list[str]:
    known = [d.id for d in plan.departments if d.id in found]
    return known + sorted(d for d in set(found) if d not in known)


def _axis(scale_max: float, top: float, bottom: float, plot_width: float) -> list[str]:
    parts = []
    for tick in range(5):
        value = scale_max * tick / 4
        x = LABEL_WIDTH + plot_width * tick / 4
        parts.append(
            element(
                "line",
                {"class": "grid", "x1": fmt(x), "y1": fmt(top), "x2": fmt(x), "y2": fmt(bottom)},
            )
        )
        parts.append(text_block([amount(value)], x, bottom + 14, 10, css_class="axis-label"))
    return parts


@dataclass(frozen=True)
class _Box:
    department: str
    n: int
    total: float
    low: float
    q1: float
    median: float
    q3: float
    high: float


def _boxes(rows: Sequence[Mapping[str, Any]]) -> list[_Box]:
    """Each department's payout statistics, grouped with numpy (a million rows in a fraction
    of a second; a loop over them took longer than scoring them)."""
    departments = [str(row.get("department")) for row in rows]
    values = [row.get("payout") for row in rows]
    numbers = np.array(
        [v if isinstance(v, int | float) and not isinstance(v, bool) else np.nan for v in values],
        dtype=np.float64,
    )
    known = ~np.isnan(numbers)
    numbers = numbers[known]
    if numbers.size == 0:
        return []
    # factorize hashes; np.unique sorts a million Python strings, several times slower.
    codes, labels = pd.factorize(pd.Series(departments, dtype=object)[known], sort=True)
    order = np.lexsort((numbers, codes))
    codes, numbers = codes[order], numbers[order]
    starts = np.searchsorted(codes, np.arange(len(labels)))
    ends = np.append(starts[1:], len(codes))
    boxes = []
    for label, start, end in zip(list(labels), starts.tolist(), ends.tolist(), strict=True):
        low, q1, median, q3, high = _sorted_quantiles(numbers[start:end])
        total = float(numbers[start:end].sum())
        boxes.append(_Box(label, end - start, total, low, q1, median, q3, high))
    return boxes


def _sorted_quantiles(ordered: npt.NDArray[np.float64]) -> tuple[float, float, float, float, float]:
    positions = np.array([0.0, 0.25, 0.5, 0.75, 1.0]) * (len(ordered) - 1)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, len(ordered) - 1)
    values = ordered[low] + (ordered[high] - ordered[low]) * (positions - low)
    first, second, third, fourth, fifth = (float(v) for v in values)
    return first, second, third, fourth, fifth


def _shown(plan: Plan, boxes: list[_Box]) -> tuple[list[_Box], str | None]:
    """At most MAX_ROWS departments, in plan order: the ones paying the most (where the money
    goes), with a sentence for the rest."""
    by_department = {box.department: box for box in boxes}
    order = [by_department[d] for d in _ordered_departments(plan, list(by_department))]
    if len(order) <= MAX_ROWS:
        return order, None
    paying_most = sorted(boxes, key=lambda box: (-box.total, box.department))[:MAX_ROWS]
    chosen = {box.department for box in paying_most}
    shown = [box for box in order if box.department in chosen]
    hidden = [box for box in order if box.department not in chosen]
    employees = sum(box.n for box in hidden)
    total = sum(box.total for box in hidden)
    return shown, (
        f"{len(hidden):,} more departments (the {len(shown)} paying the most are shown): "
        f"{employees:,} employees, total {amount(total)}; employees.csv lists every payout"
    )


def payout_chart(plan: Plan, score: Mapping[str, Any], currency: str = "") -> str:
    """One ``<svg>``: a ``g.payout-box`` per department with employees (at most MAX_ROWS, the
    rest summarised in one line), else a ``rect.payout-bar`` per department (its payout
    factor)."""
    names = plan.department_names()
    boxes = _boxes(score.get("employees") or [])
    plot_width = WIDTH - LABEL_WIDTH - STATS_WIDTH
    parts: list[str] = []
    top = 10.0
    if boxes:
        order, rest = _shown(plan, boxes)
        scale_max = _nice_max(max(box.high for box in boxes))
        bottom = top + ROW_HEIGHT * len(order)
        parts += _axis(scale_max, top, bottom, plot_width)
        for index, box in enumerate(order):
            department = box.department
            low, q1, median, q3, high = box.low, box.q1, box.median, box.q3, box.high
            total = box.total
            y = top + ROW_HEIGHT * index + ROW_HEIGHT / 2

            def x_of(value: float) -> float:
                return LABEL_WIDTH + plot_width * value / scale_max

            tooltip = f"{department}: " + _(
                "{count} employees, total {total} {currency}; min {low}, median {median}, max "
                "{high}"
            ).format(
                count=box.n,
                total=f"{total:,.2f}",
                currency=currency,
                low=f"{low:,.2f}",
                median=f"{median:,.2f}",
                high=f"{high:,.2f}",
            )
            parts.append(
                element(
                    "g",
                    {"class": "payout-box", "data-department": department, "data-n": box.n},
                    element("title", {}, esc(tooltip))
                    + row_label(
                        names.get(department, department),
                        LABEL_WIDTH,
                        y - ROW_HEIGHT / 2,
                        ROW_HEIGHT,
                    )
                    + element(
                        "line",
                        {
                            "class": "whisker",
                            "x1": fmt(x_of(low)),
                            "y1": fmt(y),
                            "x2": fmt(x_of(high)),
                            "y2": fmt(y),
                        },
                    )
                    + element(
                        "rect",
                        {
                            "class": "box",
                            "x": fmt(x_of(q1)),
                            "y": fmt(y - 10),
                            "width": fmt(max(x_of(q3) - x_of(q1), 1.0)),
                            "height": "20",
                        },
                    )
                    + element(
                        "line",
                        {
                            "class": "median",
                            "x1": fmt(x_of(median)),
                            "y1": fmt(y - 10),
                            "x2": fmt(x_of(median)),
                            "y2": fmt(y + 10),
                        },
                    )
                    + text_block(
                        [
                            f"n={box.n} · {_('median')} {amount(median)} · "
                            f"{_('total')} {amount(total)}"
                        ],
                        WIDTH - STATS_WIDTH + 12,
                        y + 4,
                        11,
                        anchor="start",
                        css_class="stats",
                    ),
                )
            )
        if rest is not None:
            parts.append(
                element(
                    "g",
                    {"class": "rest-summary"},
                    text_block([rest], LABEL_WIDTH - 10, bottom + 34, 13, css_class="note"),
                )
            )
            bottom += 30
        height = bottom + 24
    else:
        rows = [
            d
            for d in score.get("departments") or []
            if isinstance(d, Mapping) and isinstance(d.get("payout_factor"), int | float)
        ]
        scale_max = _nice_max(max((float(d["payout_factor"]) for d in rows), default=1.0))
        bottom = top + ROW_HEIGHT * len(rows)
        for tick in range(5):
            x = LABEL_WIDTH + plot_width * tick / 4
            parts.append(
                element(
                    "line",
                    {
                        "class": "grid",
                        "x1": fmt(x),
                        "y1": fmt(top),
                        "x2": fmt(x),
                        "y2": fmt(bottom),
                    },
                )
            )
            parts.append(
                text_block(
                    [f"{scale_max * tick / 4:.2f}"], x, bottom + 14, 10, css_class="axis-label"
                )
            )
        for index, row in enumerate(rows):
            department = str(row.get("department"))
            factor = float(row["payout_factor"])
            y = top + ROW_HEIGHT * index
            parts.append(
                element(
                    "g",
                    {"data-department": department},
                    element(
                        "title",
                        {},
                        esc(
                            f"{department}: "
                            + _("payout factor {factor}").format(factor=f"{factor:.3f}")
                        ),
                    )
                    + row_label(names.get(department, department), LABEL_WIDTH, y, ROW_HEIGHT)
                    + element(
                        "rect",
                        {
                            "class": "payout-bar",
                            "x": fmt(LABEL_WIDTH),
                            "y": fmt(y + 7),
                            "width": fmt(max(plot_width * factor / scale_max, 0.0)),
                            "height": fmt(ROW_HEIGHT - 14),
                        },
                    )
                    + text_block(
                        [f"{_('factor')} {factor:.2f}"],
                        WIDTH - STATS_WIDTH + 12,
                        y + ROW_HEIGHT / 2 + 4,
                        11,
                        anchor="start",
                        css_class="stats",
                    ),
                )
            )
        height = bottom + 24
    return element(
        "svg",
        {
            "class": "chart payout-distribution",
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {fmt(WIDTH)} {fmt(height)}",
            "role": "img",
            "aria-label": _("Payout distribution per department"),
        },
        "".join(parts),
    )
