"""Decision tables in policies (docs/file-formats.md, "PayoutMatrix" and "DecisionTable").

A *payout matrix* pays several KPIs together on their attainments at once (revenue x margin),
interpolated per axis. A *decision table* is a gate in table form: rows of conditions on a few
results, a hit policy as in DMN (``unique``, ``first``, ``collect`` with ``sum``/``max``/``min``)
and an effect (``multiply``, ``add`` or ``cap``) on what ``applies_to`` names.

Validated at load, here, with no I/O: a ``unique`` table whose rows overlap, and a ``unique`` or
``first`` table without a ``default`` that leaves some results unmatched, are refused naming the
rows. Both are decided exactly on the grid of every condition's end points (each end point and
each open interval between two of them is one cell; a row matches a whole cell or none of it).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator, model_validator

from alignment_engine.model.common import AppliesTo, Document, Id, Number, ReferenceProblem

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

MAX_GRID_CELLS = 2_000_000
"""The most cells x rows the overlap and gap check of a ``unique`` table (or a ``first`` one
without a default) examines: each input's distinct condition ends make its cells, so 3 inputs
with 10 distinct ends each and 30 rows take 21 x 21 x 21 x 30 = 277,830."""


# --- payout matrices ---------------------------------------------------------------------------


class MatrixAxis(Document):
    name: Id
    points: list[Number] = Field(min_length=1)
    interpolation: Literal["linear", "step"] = "linear"

    @field_validator("points")
    @classmethod
    def _increasing(cls, points: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(points)):
            raise ValueError(f"axis points must be strictly increasing attainments: {points}")
        return points


class PayoutMatrix(Document):
    """A payout factor for each combination of attainments, nested by axis (the first axis
    outermost): ``factors[i][j]`` is the factor at the first axis's point ``i`` and the
    second's point ``j``."""

    description: str = ""
    axes: list[MatrixAxis] = Field(min_length=1, max_length=6)
    factors: list[Any]
    below: Number = Field(default=0.0, ge=0)
    kpis: list[dict[Id, Id]] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> PayoutMatrix:
        names = [axis.name for axis in self.axes]
        if len(set(names)) != len(names):
            raise ValueError(f"axis names must differ: {names}")
        shape = tuple(len(axis.points) for axis in self.axes)
        grid = _nested_array(self.factors, shape)
        if (grid < 0).any():
            raise ValueError("payout factors must not be negative")
        for number, axis in enumerate(self.axes):
            falls = np.diff(grid, axis=number) < 0
            if falls.any():
                where = tuple(int(i) for i in np.argwhere(falls)[0])
                raise ValueError(
                    f"payout factors must not fall as '{axis.name}' attainment rises "
                    f"(they do after factors{''.join(f'[{i}]' for i in where)})"
                )
        for index, binding in enumerate(self.kpis):
            if set(binding) != set(names):
                missing = sorted(set(names) - set(binding))
                extra = sorted(set(binding) - set(names))
                said = []
                if missing:
                    said.append("no KPI for " + ", ".join(missing))
                if extra:
                    said.append("unknown axes " + ", ".join(extra))
                raise ValueError(
                    f"kpis[{index}] names one KPI per axis ({', '.join(names)}): " + "; ".join(said)
                )
        return self

    def grid(self) -> FloatArray:
        return _nested_array(self.factors, tuple(len(axis.points) for axis in self.axes))


def _nested_array(values: object, shape: tuple[int, ...]) -> FloatArray:
    """``values`` as an array of exactly ``shape``, or a ValueError saying where it is not."""

    def walk(node: object, depth: int, where: str) -> None:
        if depth == len(shape):
            if isinstance(node, bool) or not isinstance(node, int | float):
                raise ValueError(f"factors{where} must be a number, got {node!r}")
            if not math.isfinite(float(node)):
                raise ValueError(f"factors{where} must be a finite number")
            return
        if not isinstance(node, list) or len(node) != shape[depth]:
            size = len(node) if isinstance(node, list) else "not a list"
            raise ValueError(
                f"factors{where} must be a list of {shape[depth]} (one per point of axis "
                f"{depth + 1}), got {size}"
            )
        for index, item in enumerate(node):
            walk(item, depth + 1, f"{where}[{index}]")

    walk(values, 0, "")
    return np.array(values, dtype=np.float64).reshape(shape)


# --- decision tables ---------------------------------------------------------------------------


class HitPolicy(StrEnum):
    UNIQUE = "unique"  # exactly one row matches any result
    FIRST = "first"  # the first matching row, in the order written
    COLLECT = "collect"  # every matching row, aggregated


class Aggregate(StrEnum):
    SUM = "sum"
    PRODUCT = "product"
    MAX = "max"
    MIN = "min"


class TableEffect(StrEnum):
    MULTIPLY = "multiply"  # factors x the output
    ADD = "add"  # factors + the output (never below 0)
    CAP = "cap"  # factors at most the output


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?"
_RANGE = re.compile(rf"^([\[\(\]])\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*([\]\)\[])$")
_COMPARE = re.compile(rf"^(<=|>=|<|>|=)?\s*({_NUMBER})$")


def _value(text: str) -> float:
    # Decimal: "99.9%" is 0.999 exactly as "0.999" is, not 99.9 / 100 = 0.9990000000000001.
    return float(Decimal(text[:-1]) / 100) if text.endswith("%") else float(text)


@dataclass(frozen=True)
class Interval:
    """A condition as an interval of the real line: ``-`` (anything), ``< 0.9``, ``>= 1.1``,
    ``= 0`` (or a bare number), ``[0.9..1.1)`` (DMN's ranges; ``]`` ``[`` also open an end)."""

    low: float = -math.inf
    low_closed: bool = False
    high: float = math.inf
    high_closed: bool = False
    text: str = "-"

    @classmethod
    def parse(cls, written: str | float) -> Interval:
        if isinstance(written, bool):
            raise ValueError(f"{written!r} is not a condition")
        if isinstance(written, int | float):
            number = float(written)
            return cls(number, True, number, True, f"= {number:g}")
        text = written.strip()
        if text in ("-", ""):
            return cls()
        if match := _RANGE.match(text):
            opening, low, high, closing = match.groups()
            interval = cls(_value(low), opening == "[", _value(high), closing == "]", text)
            if interval.low > interval.high or (
                interval.low == interval.high and not (interval.low_closed and interval.high_closed)
            ):
                raise ValueError(f"the range {text!r} is empty")
            return interval
        if match := _COMPARE.match(text):
            operator, number_text = match.groups()
            number = _value(number_text)
            shown = f"{operator or '='} {number:g}"
            if operator == "<":
                return cls(high=number, text=shown)
            if operator == "<=":
                return cls(high=number, high_closed=True, text=shown)
            if operator == ">":
                return cls(low=number, text=shown)
            if operator == ">=":
                return cls(low=number, low_closed=True, text=shown)
            return cls(number, True, number, True, shown)
        raise ValueError(
            f"{written!r} is not a condition; write '-', '< 0.9', '>= 1.1', '= 0' or a range "
            "like '[0.9..1.1)'"
        )

    @property
    def is_any(self) -> bool:
        return self.low == -math.inf and self.high == math.inf

    def contains(self, values: FloatArray) -> BoolArray:
        """Which values the condition holds for (NaN, no result, only for ``-``)."""
        # An open-ended condition holds at infinity too: zero defects against a positive
        # target is an infinite attainment, and ">= 1.1" holds for it.
        low_closed = self.low_closed or self.low == -math.inf
        high_closed = self.high_closed or self.high == math.inf
        above = values >= self.low if low_closed else values > self.low
        below = values <= self.high if high_closed else values < self.high
        result: BoolArray = above & below
        if self.is_any:
            result = np.ones(values.shape, dtype=np.bool_)
        return result

    def ends(self) -> list[float]:
        return [v for v in (self.low, self.high) if math.isfinite(v)]


Condition = str | Number


class TableInput(Document):
    """One column of a decision table: a KPI's attainment or actual, a department's score, or
    the company score (the values gates read, before any gate acts)."""

    name: Id | None = None
    kpi: Id | None = None
    department: Id | None = None
    scope: Literal["company"] | None = None
    measure: Literal["attainment", "actual", "score"] | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> TableInput:
        subjects = [s for s in (self.kpi, self.department, self.scope) if s is not None]
        if len(subjects) != 1:
            raise ValueError("a table input reads exactly one of: kpi, department, scope: company")
        if self.kpi is not None and self.measure == "score":
            raise ValueError("a KPI is read on 'attainment' or 'actual'")
        if self.kpi is None and self.measure not in (None, "score"):
            raise ValueError("departments and the company are read on 'score'")
        return self

    @property
    def label(self) -> str:
        if self.name is not None:
            return self.name
        return self.kpi or self.department or "company"

    @property
    def read(self) -> str:
        if self.kpi is not None:
            return self.measure or "attainment"
        return "score"

    @property
    def subject(self) -> str:
        if self.kpi is not None:
            return f"kpi:{self.kpi}"
        if self.department is not None:
            return f"department:{self.department}"
        return "company"


class TableRow(Document):
    when: list[Condition] | dict[Id, Condition]
    then: Number
    description: str = ""


class DecisionTable(Document):
    id: Id
    description: str = ""
    inputs: list[TableInput] = Field(min_length=1, max_length=8)
    hit: HitPolicy = HitPolicy.UNIQUE
    aggregate: Aggregate | None = None
    effect: TableEffect
    rules: list[TableRow] = Field(min_length=1)
    default: Number | None = None
    applies_to: AppliesTo = "all"

    @property
    def aggregation(self) -> Aggregate:
        if self.aggregate is not None:
            return self.aggregate
        if self.effect is TableEffect.CAP:
            return Aggregate.MIN
        return Aggregate.PRODUCT if self.effect is TableEffect.MULTIPLY else Aggregate.SUM

    def conditions(self) -> list[list[Interval]]:
        """Each row's conditions, one per input in input order (call after validation)."""
        labels = [i.label for i in self.inputs]
        rows = []
        for row in self.rules:
            if isinstance(row.when, dict):
                rows.append([Interval.parse(row.when.get(label, "-")) for label in labels])
            else:
                rows.append([Interval.parse(written) for written in row.when])
        return rows

    def problems(self, path: tuple[str | int, ...]) -> list[ReferenceProblem]:
        """What is wrong with the table as a whole, located under ``path`` (its place in the
        policy): unreadable conditions, then overlaps and gaps for its hit policy."""
        problems: list[ReferenceProblem] = []
        labels = [i.label for i in self.inputs]
        if len(set(labels)) != len(labels):
            problems.append(
                ReferenceProblem(
                    (*path, "inputs"),
                    f"input names must differ: {labels}",
                    "give repeated subjects a 'name'",
                )
            )
            return problems
        if self.aggregate is not None and self.hit is not HitPolicy.COLLECT:
            problems.append(
                ReferenceProblem((*path, "aggregate"), "only a 'collect' table aggregates its rows")
            )
        if self.aggregate is Aggregate.SUM and self.effect is TableEffect.MULTIPLY:
            problems.append(
                ReferenceProblem(
                    (*path, "aggregate"),
                    "a 'collect' table that multiplies would add its multipliers together "
                    "(two rows of 1.05 would multiply by 2.1)",
                    "use aggregate: product (the default for multiply), max or min; or "
                    "effect: add for points added to the factor",
                )
            )
        if self.aggregate is Aggregate.PRODUCT and self.effect is not TableEffect.MULTIPLY:
            problems.append(
                ReferenceProblem(
                    (*path, "aggregate"), "only a table that multiplies takes their product"
                )
            )
        outputs = [float(r.then) for r in self.rules]
        if self.default is not None:
            outputs.append(float(self.default))
        if self.effect is not TableEffect.ADD and any(v < 0 for v in outputs):
            problems.append(
                ReferenceProblem(
                    (*path, "effect"),
                    f"a '{self.effect}' table's outputs must not be negative",
                )
            )
        for number, row in enumerate(self.rules):
            where = (*path, "rules", number, "when")
            if isinstance(row.when, dict):
                for key in row.when:
                    if key not in labels:
                        problems.append(
                            ReferenceProblem(
                                (*where, key),
                                f"unknown input '{key}'",
                                "expected one of: " + ", ".join(labels),
                            )
                        )
                written: list[tuple[str | int, Condition]] = list(row.when.items())
            else:
                if len(row.when) != len(labels):
                    problems.append(
                        ReferenceProblem(
                            where,
                            f"row {number + 1} has {len(row.when)} conditions for "
                            f"{len(labels)} inputs ({', '.join(labels)})",
                        )
                    )
                    continue
                written = list(zip(range(len(labels)), row.when, strict=True))
            for position, condition in written:
                try:
                    Interval.parse(condition)
                except ValueError as error:
                    problems.append(ReferenceProblem((*where, position), str(error)))
        if problems:
            return problems
        needs_check = self.hit is HitPolicy.UNIQUE or (
            self.hit is HitPolicy.FIRST and self.default is None
        )
        return _coverage_problems(self, path) if needs_check else []


def _domain_low(table_input: TableInput) -> float | None:
    """Scores are weighted means of payout factors, never below zero; a KPI's result may be
    anything (a negative profit)."""
    return 0.0 if table_input.read == "score" else None


@dataclass(frozen=True)
class _Axis:
    label: str
    representatives: FloatArray  # one value per cell
    cells: tuple[Interval, ...]  # each cell as an interval

    def words(self, first: int, last: int) -> str:
        """The cells ``first..last`` (a run of neighbours) as one condition in words."""
        low, high = self.cells[first], self.cells[last]
        if low.low == high.high:
            return f"{self.label} = {low.low:g}"
        if low.low == -math.inf and high.high == math.inf:
            return f"{self.label} any"
        if low.low == -math.inf or (low.low == 0.0 and low.low_closed and first == 0):
            return f"{self.label} {'<=' if high.high_closed else '<'} {high.high:g}"
        if high.high == math.inf:
            return f"{self.label} {'>=' if low.low_closed else '>'} {low.low:g}"
        opening = "[" if low.low_closed else "("
        closing = "]" if high.high_closed else ")"
        return f"{self.label} in {opening}{low.low:g}..{high.high:g}{closing}"


def _axis_cells(label: str, intervals: list[Interval], low: float | None) -> _Axis:
    ends = sorted({e for i in intervals for e in i.ends() if low is None or e >= low})
    if low is not None and low not in ends:
        ends = [low, *ends]
    values: list[float] = []
    cells: list[Interval] = []
    if not ends:
        anything = Interval() if low is None else Interval(low, True)
        return _Axis(label, np.array([0.0 if low is None else low + 1.0]), (anything,))
    if low is None:
        values.append(ends[0] - 1.0)
        cells.append(Interval(high=ends[0]))
    for index, end in enumerate(ends):
        values.append(end)
        cells.append(Interval(end, True, end, True))
        if index + 1 < len(ends):
            values.append((end + ends[index + 1]) / 2)
            cells.append(Interval(end, False, ends[index + 1], False))
    values.append(ends[-1] + 1.0)
    cells.append(Interval(low=ends[-1]))
    return _Axis(label, np.array(values, dtype=np.float64), tuple(cells))


def _coverage_problems(table: DecisionTable, path: tuple[str | int, ...]) -> list[ReferenceProblem]:
    rows = table.conditions()
    axes = [
        _axis_cells(
            f"{i.label} {i.read}",
            [row[number] for row in rows],
            _domain_low(i),
        )
        for number, i in enumerate(table.inputs)
    ]
    shape = tuple(len(a.representatives) for a in axes)
    if math.prod(shape) * len(rows) > MAX_GRID_CELLS:
        return [
            ReferenceProblem(
                (*path, "rules"),
                f"the table has too many combinations to check ({math.prod(shape):,} cells x "
                f"{len(rows)} rows)",
                "split it into smaller tables",
            )
        ]
    # hits[c1, ..., cn, r]: row r matches cell (c1, ..., cn)
    hits = np.ones((*shape, len(rows)), dtype=np.bool_)
    for number, axis in enumerate(axes):
        matches = np.stack(
            [row[number].contains(axis.representatives) for row in rows], axis=-1
        )  # (cells, rows)
        view = [1] * len(axes) + [len(rows)]
        view[number] = shape[number]
        hits &= matches.reshape(view)
    count = hits.sum(axis=-1)
    problems: list[ReferenceProblem] = []

    def row_path(number: int) -> tuple[str | int, ...]:
        return (*path, "rules", number)

    if table.hit is HitPolicy.UNIQUE:
        reported: set[tuple[int, int]] = set()
        for cell in map(tuple, np.argwhere(count > 1)):
            first, second = (int(r) for r in np.flatnonzero(hits[cell])[:2])
            if (first, second) in reported:
                continue
            reported.add((first, second))
            both = np.all(hits[..., [first, second]], axis=-1)
            problems.append(
                ReferenceProblem(
                    row_path(second),
                    f"rows {first + 1} and {second + 1} of a 'unique' table overlap: both "
                    f"match {_region_words(axes, _box(both, cell))}",
                    "narrow one of them, or use 'hit: first' so that the first row wins",
                    related=((f"row {first + 1}", row_path(first)),),
                )
            )
            if len(reported) >= 5:
                break
    if table.hit is not HitPolicy.COLLECT and table.default is None:
        unmatched = count == 0
        consumed = np.zeros(unmatched.shape, dtype=np.bool_)
        gaps = 0
        for found in np.argwhere(unmatched):
            cell = tuple(int(i) for i in found)
            if consumed[cell]:
                continue
            if gaps == 3:
                break
            gaps += 1
            box = _box(unmatched, cell)
            consumed[tuple(slice(low, high + 1) for low, high in box)] = True
            before, after = _rows_beside(hits, box, cell)
            if before is not None and after is not None:
                rows_said = f" (between rows {before + 1} and {after + 1})"
            else:
                beside = sorted({r for r in (before, after) if r is not None})
                rows_said = (
                    f" (next to row {beside[0] + 1})"
                    if len(beside) == 1
                    else (
                        f" (next to rows {', '.join(str(r + 1) for r in beside)})" if beside else ""
                    )
                )
            named = [r for r in (before, after) if r is not None]
            problems.append(
                ReferenceProblem(
                    row_path(named[-1]) if named else (*path, "rules"),
                    f"no row of a '{table.hit}' table matches {_region_words(axes, box)}"
                    f"{rows_said}",
                    "add a row for it, or give the table a 'default'",
                    related=((f"row {named[0] + 1}", row_path(named[0])),)
                    if len(named) == 2 and named[0] != named[1]
                    else (),
                )
            )
    return problems


Box = list[tuple[int, int]]
"""A block of neighbouring cells: the first and last cell index on each axis."""


def _box(inside: BoolArray, cell: tuple[int, ...]) -> Box:
    """The largest block around ``cell`` grown axis by axis while every cell of the block is
    ``inside``: a gap or an overlap as one region, not as each cell of it."""
    box = [(i, i) for i in cell]

    def all_inside(candidate: Box) -> bool:
        return bool(inside[tuple(slice(low, high + 1) for low, high in candidate)].all())

    for axis in range(inside.ndim):
        low, high = box[axis]
        while low > 0 and all_inside([*box[:axis], (low - 1, high), *box[axis + 1 :]]):
            low -= 1
        while high + 1 < inside.shape[axis] and all_inside(
            [*box[:axis], (low, high + 1), *box[axis + 1 :]]
        ):
            high += 1
        box[axis] = (low, high)
    return box


def _region_words(axes: list[_Axis], box: Box) -> str:
    said = [
        axis.words(low, high)
        for axis, (low, high) in zip(axes, box, strict=True)
        if not (low == 0 and high == len(axis.cells) - 1)
    ]
    return ", ".join(said) if said else "every result"


def _rows_beside(hits: BoolArray, box: Box, cell: tuple[int, ...]) -> tuple[int | None, int | None]:
    """The rows matching the cells just outside ``box`` (through ``cell``), along the first axis
    where rows match on both sides, else the first sides that match."""
    found: tuple[int | None, int | None] = (None, None)
    for axis, (low, high) in enumerate(box):
        sides: list[int | None] = []
        for index in (low - 1, high + 1):
            if not 0 <= index < hits.shape[axis]:
                sides.append(None)
                continue
            position = list(cell)
            position[axis] = index
            matched = np.flatnonzero(hits[tuple(position)])
            sides.append(int(matched[0]) if matched.size else None)
        if sides[0] is not None and sides[1] is not None:
            return sides[0], sides[1]
        if found[0] is None and sides[0] is not None:
            found = (sides[0], found[1])
        if found[1] is None and sides[1] is not None:
            found = (found[0], sides[1])
    return found
