"""Metric formulas (``gross_profit / revenue``, ``(a + b) / c``) evaluated safely over arrays.

A formula is parsed with :mod:`ast` and only names, numbers, ``+ - * /``, unary ``+``/``-`` and
parentheses are accepted; anything else (calls, attributes, subscripts, ``**``) is rejected when
the formula is parsed. Nothing is ever passed to ``eval``. Evaluation is vectorised: each name is
bound to a numpy array (one value per scope), and divisions by zero are reported as a mask rather
than as infinities so the caller can name the scope and period that divided by zero.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_BINARY: dict[type[ast.operator], Callable[[FloatArray, FloatArray], FloatArray]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
}


class FormulaError(ValueError):
    """A formula is not plain arithmetic over names and numbers."""


@dataclass(frozen=True)
class FormulaValues:
    values: FloatArray
    divided_by_zero: BoolArray  # True where some division in the formula had a zero denominator


_Node = Callable[[Mapping[str, FloatArray], BoolArray], FloatArray]


class Formula:
    """A parsed formula: ``Formula("gross_profit / revenue").evaluate({...})``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._names: list[str] = []
        try:
            tree = ast.parse(text.strip(), mode="eval")
            self._root = self._compile(tree.body)
        except SyntaxError as exc:
            raise FormulaError(
                f"formula {text!r} is not an arithmetic expression: {exc.msg}"
            ) from None
        except RecursionError:
            raise FormulaError(f"formula {text[:40]!r}... is nested too deeply") from None
        self.names: tuple[str, ...] = tuple(self._names)

    def _compile(self, node: ast.expr) -> _Node:
        if isinstance(node, ast.Name):
            name = node.id
            if name not in self._names:
                self._names.append(name)
            return lambda values, _zero: values[name]
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            number = float(node.value)  # type: ignore[arg-type]  # int or float, checked above
            return lambda _values, _zero: np.float64(number) * np.ones(_zero.shape)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self._compile(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda values, zero: np.negative(operand(values, zero))
            return operand
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self._division(self._compile(node.left), self._compile(node.right))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            operation = _BINARY[type(node.op)]
            left = self._compile(node.left)
            right = self._compile(node.right)
            return lambda values, zero: operation(left(values, zero), right(values, zero))
        raise FormulaError(
            f"formula {self.text!r} may only use names, numbers, + - * / and parentheses"
        )

    @staticmethod
    def _division(left: _Node, right: _Node) -> _Node:
        def divide(values: Mapping[str, FloatArray], zero: BoolArray) -> FloatArray:
            numerator = left(values, zero)
            denominator = right(values, zero)
            is_zero = denominator == 0
            zero |= is_zero
            return np.divide(numerator, np.where(is_zero, 1.0, denominator))

        return divide

    def evaluate(self, values: Mapping[str, npt.ArrayLike]) -> FormulaValues:
        """Evaluate with each name bound to an array (all the same length)."""
        missing = [name for name in self.names if name not in values]
        if missing:
            raise KeyError(missing[0])
        arrays = {name: np.asarray(values[name], dtype=np.float64) for name in self.names}
        size = next((a.shape for a in arrays.values()), (1,))
        divided_by_zero = np.zeros(size, dtype=np.bool_)
        result = np.broadcast_to(self._root(arrays, divided_by_zero), size).astype(np.float64)
        result = np.where(divided_by_zero, np.nan, result)
        return FormulaValues(values=result, divided_by_zero=divided_by_zero)

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"
