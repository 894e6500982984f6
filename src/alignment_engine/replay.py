"""Run a stored run again from the database alone, and say whether it gives the same answer.

This is the audit trail's proof: the documents and tables a run read are stored by content, so
the engine can compute the run once more, months later, and the result text must equal the stored
one byte for byte (same engine version). A difference means the inputs, the engine or the
environment changed, and the report shows where. The recomputation goes through the same run
definitions (:mod:`alignment_engine.pipeline`) as the command that made the run.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from alignment_engine.errors import InputError
from alignment_engine.model import Plan
from alignment_engine.pipeline import DEFINITIONS, ScoreRun
from alignment_engine.scoring.money import format_units
from alignment_engine.storage import Store

__all__ = ["Replay", "explain_payout", "replay_run"]

REPLAYABLE = tuple(DEFINITIONS)
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


def replay_run(store: Store, run_id: str) -> Replay:
    """Compute a stored run again from its stored inputs and compare with its stored result."""
    inputs = store.run_inputs(run_id)
    run = inputs.run
    kind = run.kind.value
    definition = DEFINITIONS.get(kind)
    if definition is None:
        raise InputError(
            f"run {run.id} is a {kind} run; replay covers {', '.join(REPLAYABLE)} runs",
            suggestion="run the scenario again with `alignment-engine scenario run`",
        )
    again = definition.from_stored(inputs)
    output = again.output(again.compute(), run.id).result_json
    replayed = output.decode("utf-8") if isinstance(output, bytes) else output
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
    run_id, result, position = _derived(store, run_id, employee_id)
    explanation = result.explanation(position, "full")
    assert explanation is not None  # the "full" style always explains
    return {
        "run_id": run_id,
        "employee_id": employee_id,
        "currency": result.settings.currency,
        **explanation,
    }


def payee_statement(store: Store, run_id: str, employee_id: str) -> str:
    """One employee's statement page (HTML) from a stored score run, its payout derived again
    and checked against the stored cent (as :func:`explain_payout`)."""
    from alignment_engine.reports.statements import statement_html

    full_id, result, position = _derived(store, run_id, employee_id)
    explanation = result.explanation(position, "full")
    assert explanation is not None
    inputs = store.run_inputs(full_id)
    frame = inputs.tables["employees"].frame()
    plan = Plan.model_validate(inputs.documents["plan"].content)
    name = None
    if "name" in frame.columns:
        names = frame.loc[frame["employee_id"] == employee_id, "name"]
        name = str(names.iloc[0]) if len(names) and str(names.iloc[0]) else None
    return statement_html(
        employee_id=employee_id,
        name=name,
        explanation=explanation,
        run_id=full_id,
        period=result.period,
        plan=result.plan_id,
        policy=result.policy_id,
        currency=result.settings.currency,
        decimals=result.settings.decimals,
        payout_units=int(result.employees.units[position]),
        department_names=plan.department_names(),
    )


def _derived(store: Store, run_id: str, employee_id: str) -> tuple[str, Any, int]:
    """The stored score run scored again, and the employee's position in it, once its payout
    is checked against the stored one to the cent."""
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
    result = ScoreRun.from_stored(inputs).compute()
    derived = int(result.employees.units[position])
    if result.employees.employee_id[position] != employee_id or derived != recorded:
        raise InputError(
            f"run {run.id} cannot be explained by this engine: it derives "
            f"{result.payout(position)} for '{employee_id}' where the run stored "
            f"{format_units(recorded, result.settings.decimals)} {result.settings.currency}",
            suggestion=f"`alignment-engine runs replay {run.id}` shows what changed "
            f"(the run was made by engine {run.engine_version})",
        )
    return run.id, result, position
