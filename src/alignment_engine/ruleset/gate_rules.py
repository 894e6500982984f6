"""Gate rules: the one place that decides whether a gate fires, each gate one durable_rules rule.

:func:`rule_gate_outcomes` is the product's
:class:`~alignment_engine.scoring.gate_effects.GateEvaluator`: scoring hands it the few results
gates read (KPI results, department scores, the company score; never employees) and it returns
one outcome per gate, in order; the gate arithmetic (readings, outcomes, combined effects) is
``scoring/gate_effects.py``. ``tests/gate_oracle.py`` decides the same gates in plain Python and
the tests hold the two to the same answers.

Facts, one per subject some gate reads::

    {"subject": "kpi:<id>", "kpi": "<id>", "attainment": 0.82, "actual": 0.09}
    {"subject": "department:<id>", "department": "<id>", "score": 0.55}
    {"subject": "company", "score": 0.97}

A finite measure is written as its value. durable_rules cannot hold an infinite number, yet an
attainment is +inf when a lower-is-better KPI hits zero (no defects at all), so an infinite
measure is written as ``<measure>_infinity: 1`` (or ``-1``) instead. A missing or NaN measure is
left out, and a comparison never matches a fact without the field: a gate without a result does
not fire.

The rule of a gate tests the subject, then the comparison. Python decides, when the rule is
built, whether an infinite measure passes the comparison and how a non-finite threshold compares
with a finite measure (``x < inf`` always holds, ``x < nan`` never does), so the engine only
ever compares finite numbers, with IEEE semantics, as Python does::

    {"all": [{"result": {"$and": [
        {"subject": "kpi:quality.defect_rate"},
        {"$or": [{"$lt": {"attainment": 0.85}}, {"attainment_infinity": -1}]},
    ]}}]}

Rulesets are compiled once per set of gate conditions (effects and targets are not part of the
rules, so policies that differ only in effects share them) and kept in a small cache. A policy
with more than :data:`GATES_PER_RULESET` gates is split over several rulesets, well inside the
adapter's limit of :data:`~alignment_engine.ruleset.durable.MAX_RULES_PER_RULESET` rules.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from alignment_engine.model.policy import Comparison, Gate
from alignment_engine.ruleset.durable import MAX_RULES_PER_RULESET, RuleEngine
from alignment_engine.scoring.gate_effects import (
    GateOutcome,
    KpiFact,
    gate_outcome,
    gate_subject,
    read_gate,
)

__all__ = ["GATES_PER_RULESET", "CompiledGates", "compiled_gates", "rule_gate_outcomes"]

#: Gates per durable ruleset: a quarter of the adapter's rule limit (it adds one rule of its own).
GATES_PER_RULESET: Final = MAX_RULES_PER_RULESET // 4
#: Compiled gate sets kept; an evicted one frees its C rulesets once no evaluation holds it.
_CACHE_SIZE: Final = 64

_ALIAS: Final = "result"
_SUBJECT: Final = "subject"
_INFINITY_SUFFIX: Final = "_infinity"

#: Comparison fields in a fixed order: durable operator and Python's own comparison.
_OPERATORS: Final[tuple[tuple[str, str, Callable[[float, float], bool]], ...]] = (
    ("lt", "$lt", operator.lt),
    ("lte", "$lte", operator.le),
    ("gt", "$gt", operator.gt),
    ("gte", "$gte", operator.ge),
    ("eq", "$eq", operator.eq),
)


# ---------------------------------------------------------------------------------------------
# Gates -> rules


def _terms(comparison: Comparison) -> list[tuple[str, float]]:
    """The comparison's (field, threshold) pairs, in the fixed operator order."""
    return [
        (name, float(value))
        for name, _, _ in _OPERATORS
        if (value := getattr(comparison, name)) is not None
    ]


def _finite_branch(measure: str, comparison: Comparison) -> dict[str, Any] | None:
    """The test on a finite measure; None when no finite value can pass."""
    tests: list[dict[str, Any]] = []
    for name, durable_op, compare in _OPERATORS:
        raw = getattr(comparison, name)
        if raw is None:
            continue
        threshold = float(raw)
        if math.isfinite(threshold):
            tests.append({durable_op: {measure: threshold}})
        elif not compare(0.0, threshold):
            # Against inf, -inf or NaN every finite value compares alike (0.0 stands for all).
            return None
    if not tests:
        return {"$ex": {measure: 1}}  # any finite value passes
    return tests[0] if len(tests) == 1 else {"$and": tests}


def _gate_condition(gate: Gate) -> dict[str, Any] | None:
    """The condition on one fact under which ``gate`` fires; None if it never can."""
    subject, measure, comparison = gate_subject(gate)
    branches: list[dict[str, Any]] = []
    finite = _finite_branch(measure, comparison)
    if finite is not None:
        branches.append(finite)
    for sign, infinity in ((1, math.inf), (-1, -math.inf)):
        if comparison.holds(infinity):
            branches.append({measure + _INFINITY_SUFFIX: sign})
    if not branches:
        return None
    test = branches[0] if len(branches) == 1 else {"$or": branches}
    parts = test["$and"] if list(test) == ["$and"] else [test]
    return {"$and": [{_SUBJECT: subject}, *parts]}


def _rule_name(index: int, gate: Gate) -> str:
    return f"{gate.id}#{index}"  # the position keeps rule names unique even if ids repeat


@dataclass(frozen=True)
class _GateRuleset:
    name: str
    definition: dict[str, dict[str, Any]]  # rule name -> durable rule
    gate_of_rule: dict[str, int]  # rule name -> position of its gate
    subjects: frozenset[str]  # the subjects its rules read


@dataclass(frozen=True, eq=False)
class CompiledGates:
    """A gate set compiled to durable rulesets (``engine`` is None when no gate can fire)."""

    rulesets: tuple[_GateRuleset, ...]
    engine: RuleEngine | None

    def fired(self, facts: Mapping[str, dict[str, Any]]) -> set[int]:
        """Positions of the gates whose rule matched; ``facts`` are keyed by subject."""
        fired: set[int] = set()
        if self.engine is None:
            return fired
        for ruleset in self.rulesets:
            present = [facts[s] for s in sorted(ruleset.subjects) if s in facts]
            if not present:
                continue
            for match in self.engine.evaluate(ruleset.name, present):
                fired.add(ruleset.gate_of_rule[match.rule])
        return fired


def _compile(gates: Sequence[Gate]) -> CompiledGates:
    rules: list[tuple[str, int, str, dict[str, Any]]] = []
    for index, gate in enumerate(gates):
        condition = _gate_condition(gate)
        if condition is not None:
            subject = gate_subject(gate)[0]
            rules.append((_rule_name(index, gate), index, subject, condition))
    rulesets = []
    for start in range(0, len(rules), GATES_PER_RULESET):
        chunk = rules[start : start + GATES_PER_RULESET]
        rulesets.append(
            _GateRuleset(
                name=f"gates-{start // GATES_PER_RULESET}",
                definition={name: {"all": [{_ALIAS: cond}]} for name, _, _, cond in chunk},
                gate_of_rule={name: index for name, index, _, _ in chunk},
                subjects=frozenset(subject for _, _, subject, _ in chunk),
            )
        )
    engine = RuleEngine({r.name: r.definition for r in rulesets}) if rulesets else None
    return CompiledGates(tuple(rulesets), engine)


def _cache_key(gates: Sequence[Gate]) -> str:
    """A hash of what the rules are built from: each gate's subject, measure and thresholds.

    JSON keeps NaN, infinities and -0.0 apart from everything else."""
    conditions = []
    for gate in gates:
        subject, measure, comparison = gate_subject(gate)
        conditions.append([subject, measure, _terms(comparison)])
    text = json.dumps(conditions, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Cache:
    """Compiled gate sets, least recently used first out; shared by every thread."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, CompiledGates] = OrderedDict()

    def get(self, gates: Sequence[Gate]) -> CompiledGates:
        key = _cache_key(gates)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
            compiled = _compile(gates)
            self._entries[key] = compiled
            if len(self._entries) > self._size:
                # Not closed here: another thread may be evaluating with it. The engine frees
                # its C rulesets when the last reference goes.
                self._entries.popitem(last=False)
            return compiled


_cache = _Cache(_CACHE_SIZE)


def compiled_gates(gates: Sequence[Gate]) -> CompiledGates:
    """The rulesets for ``gates``, compiled on first use and cached by their conditions."""
    return _cache.get(gates)


# ---------------------------------------------------------------------------------------------
# Results -> facts


def _put(fact: dict[str, Any], measure: str, value: float | None) -> None:
    """Write one measure: its value, its infinity's sign, or nothing (no result)."""
    if value is None:
        return
    number = float(value)
    if math.isnan(number):
        return
    if math.isinf(number):
        fact[measure + _INFINITY_SUFFIX] = 1 if number > 0 else -1
    else:
        fact[measure] = number


def _facts(
    subjects: set[str],
    kpi_results: Mapping[str, KpiFact],
    department_scores: Mapping[str, float | None],
    company_score: float | None,
) -> dict[str, dict[str, Any]]:
    """One fact per subject in ``subjects`` that has results, keyed by subject."""
    facts: dict[str, dict[str, Any]] = {}
    for subject in subjects:
        kind, _, name = subject.partition(":")
        fact: dict[str, Any] = {_SUBJECT: subject}
        if kind == "kpi":
            result = kpi_results.get(name)
            if result is None:
                continue
            fact["kpi"] = name
            _put(fact, "attainment", result.attainment)
            _put(fact, "actual", result.actual)
        elif kind == "department":
            if name not in department_scores:
                continue
            fact["department"] = name
            _put(fact, "score", department_scores[name])
        else:
            _put(fact, "score", company_score)
        facts[subject] = fact
    return facts


def rule_gate_outcomes(
    gates: Sequence[Gate],
    kpi_results: Mapping[str, KpiFact],
    department_scores: Mapping[str, float | None],
    company_score: float | None = None,
) -> list[GateOutcome]:
    """Which gates fire on these results, decided by durable_rules: one outcome per gate, in
    order. A gate whose subject has no result (or a NaN one) does not fire; its outcome says so
    with ``observed=None``."""
    if not gates:
        return []
    readings = [read_gate(g, kpi_results, department_scores, company_score) for g in gates]
    compiled = compiled_gates(gates)
    subjects = {reading.subject for reading in readings}
    fired = compiled.fired(_facts(subjects, kpi_results, department_scores, company_score))
    return [
        gate_outcome(gate, reading, index in fired)
        for index, (gate, reading) in enumerate(zip(gates, readings, strict=True))
    ]
