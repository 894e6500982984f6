"""Run a stored run again from the database alone, and say whether it gives the same answer.

This is the audit trail's proof: the documents and tables a run read are stored by content, so
the engine can compute the run once more, months later, and the result text must equal the stored
one byte for byte (same engine version). A difference means the inputs, the engine or the
environment changed, and the report shows where.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import pandas as pd

from alignment_engine import engine
from alignment_engine.errors import InputError
from alignment_engine.jsonio import dumps, is_compact
from alignment_engine.model import Plan, Policy
from alignment_engine.scoring import ScoreResult
from alignment_engine.scoring.money import format_units
from alignment_engine.storage import Store
from alignment_engine.storage.records import RunInputs, StoredTable
from alignment_engine.tables import (
    ACTUALS,
    EMPLOYEES,
    HISTORY_ALLOCATIONS,
    TableSpec,
    table_from_text,
)

__all__ = ["Replay", "explain_payout", "replay_run"]

REPLAYABLE = ("check", "score", "optimise")
LARGE_RESULT_LINES = 20_000


@dataclass(frozen=True)
class Replay:
    run_id: str
    kind: str
    stored_engine_version: str
    identical: bool
    stored_json: str
    replayed_json: str

    def difference(self, context: int = 3, limit: int = 60) -> str:
        """Where the stored and replayed results differ (empty when identical): a unified diff,
        or for very large results the first differing lines (difflib is quadratic there)."""
        if self.identical:
            return ""
        stored, replayed = self.stored_json.splitlines(), self.replayed_json.splitlines()
        if max(len(stored), len(replayed)) > LARGE_RESULT_LINES:
            first = next(
                (i for i, (a, b) in enumerate(zip(stored, replayed, strict=False)) if a != b),
                min(len(stored), len(replayed)),
            )
            window = slice(max(first - context, 0), first + context + 1)
            return "\n".join(
                [
                    f"first difference at line {first + 1} of {len(stored)} (stored) / {len(replayed)} (replayed)"
                ]
                + [f"- {line}" for line in stored[window]]
                + [f"+ {line}" for line in replayed[window]]
            )
        lines = list(
            difflib.unified_diff(stored, replayed, "stored", "replayed", n=context, lineterm="")
        )
        if len(lines) > limit:
            lines = [*lines[:limit], f"... {len(lines) - limit} more lines"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "engine_version": self.stored_engine_version,
            "identical": self.identical,
            "difference": self.difference(),
        }


def _table(stored: StoredTable, spec: TableSpec, role: str) -> pd.DataFrame:
    return table_from_text(stored.frame(), spec, f"stored table '{role}'")


def _pack_order(role: str) -> tuple[int, str]:
    """``rules.2`` before ``rules.10``: packs apply in the order the run gave them."""
    suffix = role.removeprefix("rules.")
    return (int(suffix), role) if suffix.isdigit() else (1 << 62, role)


def _with_run_id(inputs: RunInputs, result: dict[str, Any]) -> dict[str, Any]:
    """Answers of the HTTP service start with their run id (the CLI's outputs do not)."""
    if inputs.run.result_json.startswith('{"run_id"'):
        return {"run_id": inputs.run.id, **result}
    return result


def _score_result(inputs: RunInputs) -> ScoreResult:
    run = inputs.run
    plan = Plan.model_validate(inputs.documents["plan"].content)
    policy = Policy.model_validate(inputs.documents["policy"].content)
    actuals = _table(inputs.tables["actuals"], ACTUALS, "actuals")
    employees = (
        _table(inputs.tables["employees"], EMPLOYEES, "employees")
        if "employees" in inputs.tables
        else None
    )
    if run.period is None:
        raise InputError(f"run {run.id} has no period to score")
    return engine.score_period(plan, policy, actuals, employees, run.period)


def _score(inputs: RunInputs) -> str:
    run = inputs.run
    result = _score_result(inputs)
    style = str(run.options.get("explanations", "full"))
    return dumps({"run_id": run.id, **result.to_dict(style)}, compact=is_compact(run.result_json))  # type: ignore[arg-type]


def _check(inputs: RunInputs) -> str:
    from alignment_engine.ruleset.schema import RulePack

    plan = Plan.model_validate(inputs.documents["plan"].content)
    policy = (
        Policy.model_validate(inputs.documents["policy"].content)
        if "policy" in inputs.documents
        else None
    )
    roles = [role for role in inputs.documents if role.startswith("rules.")]
    packs = [
        RulePack.model_validate(inputs.documents[role].content)
        for role in sorted(roles, key=_pack_order)
    ]
    result = engine.check_plan(plan, policy, packs).to_dict()
    return dumps(_with_run_id(inputs, result), compact=is_compact(inputs.run.result_json))


def _optimise(inputs: RunInputs) -> str:
    from alignment_engine.optimisation import fit_plan_curves

    run = inputs.run
    plan = Plan.model_validate(inputs.documents["plan"].content)
    fits = None
    if "history_results" in inputs.tables:
        results = _table(inputs.tables["history_results"], ACTUALS, "history_results")
        amounts = _table(
            inputs.tables["history_allocations"], HISTORY_ALLOCATIONS, "history_allocations"
        )
        fits = fit_plan_curves(
            plan,
            list(
                amounts[["period", "department", "resource", "amount"]].itertuples(
                    index=False, name=None
                )
            ),
            list(results[["period", "scope", "kpi", "actual"]].itertuples(index=False, name=None)),
        )
    options = engine.OptimiseOptions(
        resources=_resources(run.options),
        shared_weight=float(run.options.get("shared_weight", 0.3)),
        balance=float(run.options.get("balance", 0.1)),
        keep_total=bool(run.options.get("keep_total", False)),
    )
    result = engine.suggest_reallocation(plan, options, fits=fits)
    document = _with_run_id(inputs, engine.reallocation_document(result, fits))
    return dumps(document, compact=is_compact(run.result_json))


def _resources(options: dict[str, Any]) -> tuple[str, ...] | None:
    """The pools a run was limited to: ``resources`` (a list), or ``resource`` (a name or a
    list) as runs made over HTTP recorded it before they were recorded as the CLI records them."""
    chosen = options.get("resources", options.get("resource"))
    if isinstance(chosen, str):
        return (chosen,)
    return tuple(chosen) if chosen else None


_REPLAYERS = {"score": _score, "check": _check, "optimise": _optimise}


def replay_run(store: Store, run_id: str) -> Replay:
    """Compute a stored run again from its stored inputs and compare with its stored result."""
    inputs = store.run_inputs(run_id)
    run = inputs.run
    kind = run.kind.value
    replayer = _REPLAYERS.get(kind)
    if replayer is None:
        raise InputError(
            f"run {run.id} is a {kind} run; replay covers {', '.join(REPLAYABLE)} runs",
            suggestion="run the scenario again with `alignment-engine scenario run`",
        )
    replayed = replayer(inputs)
    return Replay(
        run_id=run.id,
        kind=kind,
        stored_engine_version=run.engine_version,
        identical=replayed == run.result_json,
        stored_json=run.result_json,
        replayed_json=replayed,
    )


def explain_payout(store: Store, run_id: str, employee_id: str) -> dict[str, Any]:
    """One employee's payout chain in a stored score run, derived on demand: the run is scored
    again from its stored inputs (large runs do not store a million explanations), and the
    derived payout must equal the stored payout row to the cent, else the explanation would
    not be the stored run's and an error says so."""
    inputs = store.run_inputs(run_id)
    run = inputs.run
    if run.kind.value != "score":
        raise InputError(
            f"run {run.id} is a {run.kind.value} run; only score runs have payouts to explain"
        )
    if "employees" not in inputs.tables:
        raise InputError(f"run {run.id} scored no employees, so it has no payouts to explain")
    found = store.payout_of(run.id, employee_id)
    if found is None:
        from alignment_engine.model import did_you_mean

        known = store.payouts(run.id)["employee_id"].tolist()
        raise InputError(
            f"no employee '{employee_id}' in run {run.id}",
            suggestion=did_you_mean(employee_id, known[:100_000]),
        )
    position, recorded = found
    result = _score_result(inputs)
    derived = int(result.employees.units[position])
    if result.employees.employee_id[position] != employee_id or derived != recorded:
        raise InputError(
            f"run {run.id} cannot be explained by this engine: it derives "
            f"{result.payout(position)} for '{employee_id}' where the run stored "
            f"{format_units(recorded, result.settings.decimals)} {result.settings.currency}",
            suggestion=f"`alignment-engine runs replay {run.id}` shows what changed "
            f"(the run was made by engine {run.engine_version})",
        )
    explanation = result.explanation(position, "full")
    assert explanation is not None  # the "full" style always explains
    return {
        "run_id": run.id,
        "employee_id": employee_id,
        "currency": result.settings.currency,
        **explanation,
    }
