"""Run kinds, each defined once: which inputs a run reads, how it computes, its canonical result
document, and what is stored. The CLI, the HTTP service and ``runs replay`` all go through these
definitions, so "what a score run is" is written in one place and a replay recomputes exactly
what the command computed::

    run = ScoreRun(plan, policy, actuals, employees, "2026-Q3")
    record = run.record()                      # the inputs by content, the run id and hash
    result = run.compute()                     # engine.score_period(...)
    output = run.output(result, record.run_id) # the exact text and the rows to store
    ScoreRun.from_stored(store.run_inputs(id)) # the same run, from the database alone

Adding a run kind is one more class with these five members and an entry in ``DEFINITIONS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from alignment_engine import engine
from alignment_engine.errors import InputError
from alignment_engine.jsonio import dumps_bytes, is_compact
from alignment_engine.model import Plan, Policy
from alignment_engine.storage.records import RunInputs, RunKind, RunOutput, RunRecord, StoredTable

if TYPE_CHECKING:
    import pandas as pd

    from alignment_engine.model.findings import CheckResult
    from alignment_engine.rulepacks import PackSource
    from alignment_engine.scoring import ScoreResult
    from alignment_engine.scoring.result import ExplanationStyle
    from alignment_engine.scoring.scorecard import Scorecard
    from alignment_engine.scoring.simulation import SimulationResult

Fits = Mapping[Any, Any]  # response curves fitted from history, by (resource, department, kpi)

__all__ = [
    "DEFINITIONS",
    "CheckRun",
    "OptimiseRun",
    "RunDefinition",
    "ScoreRun",
    "ScorecardRun",
    "SimulateRun",
    "result_text",
]


class RunDefinition(Protocol):
    """What every run kind defines."""

    kind: ClassVar[RunKind]

    def record(self, actor: str | None = None) -> RunRecord:
        """The run's inputs by content, with its id and hash (before anything is computed)."""
        ...

    def compute(self) -> Any:
        """The engine call."""
        ...

    def document(self, result: Any) -> dict[str, Any]:
        """The canonical result document (the ``--format json`` shape, without ``run_id``)."""
        ...

    def output(self, result: Any, run_id: str, *, with_run_id: bool = True) -> RunOutput:
        """The exact text to print and store, and the rows to query (payouts, findings)."""
        ...


def result_text(document: Mapping[str, Any], run_id: str | None, *, compact: bool) -> bytes:
    """A run's result text, UTF-8: ``run_id`` first when given, indented for files and the
    CLI, compact for HTTP answers (both forms are replayed as they were stored)."""
    body = dict(document) if run_id is None else {"run_id": run_id, **document}
    return dumps_bytes(body, compact=compact)


def _stored_table(
    inputs: RunInputs,
    role: str,
    spec: Literal[
        "ACTUALS", "EMPLOYEES", "HISTORY_ALLOCATIONS", "ADJUSTMENTS", "FX", "DISTRIBUTIONS"
    ],
) -> pd.DataFrame:
    """The stored table ``role`` read as the table spec named ``spec``."""
    # Late, with pandas: a check, or an optimisation without history, reads no table.
    from alignment_engine import tables

    specs = {
        "ACTUALS": tables.ACTUALS,
        "EMPLOYEES": tables.EMPLOYEES,
        "HISTORY_ALLOCATIONS": tables.HISTORY_ALLOCATIONS,
        "ADJUSTMENTS": tables.ADJUSTMENTS,
        "FX": tables.FX,
        "DISTRIBUTIONS": tables.DISTRIBUTIONS,
    }
    stored: StoredTable = inputs.tables[role]
    return tables.table_from_text(stored.frame(), specs[spec], f"stored table '{role}'")


def _restated_payouts(inputs: RunInputs) -> pd.DataFrame:
    """The restated run's payouts as this run recorded them (text cells back to integers)."""
    frame = inputs.tables["restated_payouts"].frame()
    return frame.assign(payout_units=frame["payout_units"].astype("int64"))


def _stored_lots(inputs: RunInputs) -> pd.DataFrame:
    """The open lots a run settled, as it recorded them (text cells back to integers)."""
    frame = inputs.tables["ledger"].frame()
    return frame.assign(units=frame["units"].astype("int64"))


def _pack_order(role: str) -> tuple[int, str]:
    """``rules.2`` before ``rules.10``: packs apply in the order the run gave them."""
    suffix = role.removeprefix("rules.")
    return (int(suffix), role) if suffix.isdigit() else (1 << 62, role)


# -- score ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreRun:
    """A period's KPI results, department scores and employee payouts."""

    kind: ClassVar[RunKind] = RunKind.SCORE

    plan: Plan
    policy: Policy
    actuals: pd.DataFrame
    employees: pd.DataFrame | None
    period: str
    explanations: ExplanationStyle = "full"
    compact: bool = False  # HTTP answers are compact JSON, files and the CLI indented
    accept_findings: bool = False  # pay despite findings that make payouts wrong (recorded)
    # A stored run is recomputed as it was computed: it passed (or predates) the payroll check.
    recomputing: bool = False
    # A restatement: the final run it restates, and that run's payouts (``employee_id``,
    # ``payout_units``), recorded as an input so that the adjustments replay from this run alone.
    restates: str | None = None
    restated_payouts: pd.DataFrame | None = None
    adjustments: pd.DataFrame | None = None  # manual adjustments (employee_id, amount, reason)
    # The open deferral, advance and recovery lots this period settles, as the store had them
    # when the run was made (recorded: a replay settles the same lots).
    lots: pd.DataFrame | None = None
    fx: pd.DataFrame | None = None  # rates paying employees in their currency (recorded)

    def record(self, actor: str | None = None) -> RunRecord:
        tables = {"actuals": self.actuals}
        if self.employees is not None:
            tables["employees"] = self.employees
        if self.restated_payouts is not None:
            tables["restated_payouts"] = self.restated_payouts
        if self.adjustments is not None:
            tables["adjustments"] = self.adjustments
        if self.lots is not None and len(self.lots):
            tables["ledger"] = self.lots
        if self.fx is not None:
            tables["fx"] = self.fx
        return RunRecord.create(
            self.kind,
            period=self.period,
            documents={"plan": self.plan, "policy": self.policy},
            tables=tables,
            options={"explanations": self.explanations}
            | ({"accept_findings": True} if self.accept_findings else {})
            | ({"restates": self.restates} if self.restates is not None else {}),
            actor=actor,
        )

    def compute(self) -> ScoreResult:
        return engine.score_period(
            self.plan,
            self.policy,
            self.actuals,
            self.employees,
            self.period,
            accept_findings=self.accept_findings or self.recomputing,
            adjustments=self.adjustments,
            lots=self.lots,
            fx=self.fx,
            restates=None
            if self.restates is None or self.restated_payouts is None
            else (self.restates, self.restated_payouts),
        )

    def document(self, result: ScoreResult) -> dict[str, Any]:
        return result.to_dict(self.explanations)

    def output(
        self,
        result: ScoreResult,
        run_id: str,
        *,
        with_run_id: bool = True,
        document: dict[str, Any] | None = None,
    ) -> RunOutput:
        """``document``: this result's document when the caller already made it (a million
        employees' rows take a second to build)."""
        body = self.document(result) if document is None else document
        return RunOutput(
            result_json=result_text(body, run_id if with_run_id else None, compact=self.compact),
            payouts=result.employees_frame() if self.employees is not None else None,
            payout_decimals=result.settings.decimals,
            ledger=None if result.ledger is None else result.ledger.entries,
        )

    @classmethod
    def from_stored(cls, inputs: RunInputs) -> ScoreRun:
        run = inputs.run
        if run.period is None:
            raise InputError(f"run {run.id} has no period to score")
        return cls(
            plan=Plan.model_validate(inputs.documents["plan"].content),
            policy=Policy.model_validate(inputs.documents["policy"].content),
            actuals=_stored_table(inputs, "actuals", "ACTUALS"),
            employees=_stored_table(inputs, "employees", "EMPLOYEES")
            if "employees" in inputs.tables
            else None,
            period=run.period,
            explanations=run.options.get("explanations", "full"),
            compact=is_compact(run.result_bytes),
            accept_findings=bool(run.options.get("accept_findings", False)),
            restates=run.options.get("restates"),
            adjustments=_stored_table(inputs, "adjustments", "ADJUSTMENTS")
            if "adjustments" in inputs.tables
            else None,
            restated_payouts=_restated_payouts(inputs)
            if "restated_payouts" in inputs.tables
            else None,
            lots=_stored_lots(inputs) if "ledger" in inputs.tables else None,
            fx=_stored_table(inputs, "fx", "FX") if "fx" in inputs.tables else None,
            recomputing=True,
        )


# -- check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRun:
    """Alignment and conflict findings: the shipped packs plus ``packs`` (recorded by content
    as ``rules.0``, ``rules.1``..., so a pack edited later does not change what the run used)."""

    kind: ClassVar[RunKind] = RunKind.CHECK

    plan: Plan
    policy: Policy | None = None
    packs: tuple[PackSource, ...] = ()
    compact: bool = False
    run_id_first: bool = False  # HTTP answers start with their run id; the CLI's do not
    language: str = "en"  # findings carry their texts in it too (recorded unless English)

    def record(self, actor: str | None = None) -> RunRecord:
        from alignment_engine.rulepacks import LoadedPack

        documents: dict[str, Any] = {"plan": self.plan}
        if self.policy is not None:
            documents["policy"] = self.policy
        for index, pack in enumerate(self.packs):
            documents[f"rules.{index}"] = pack.pack if isinstance(pack, LoadedPack) else pack
        # English adds nothing, so the runs recorded before languages keep their hashes.
        options = {} if self.language == "en" else {"language": self.language}
        return RunRecord.create(self.kind, documents=documents, options=options, actor=actor)

    def compute(self) -> CheckResult:
        return engine.check_plan(self.plan, self.policy, self.packs, language=self.language)

    def document(self, result: CheckResult) -> dict[str, Any]:
        return result.to_dict()

    def output(self, result: CheckResult, run_id: str, *, with_run_id: bool = True) -> RunOutput:
        shown = run_id if with_run_id and self.run_id_first else None
        document = self.document(result)
        # The rows come from the document itself: the store need not parse the text back.
        return RunOutput(
            result_json=result_text(document, shown, compact=self.compact),
            findings=document["findings"],
        )

    @classmethod
    def from_stored(cls, inputs: RunInputs) -> CheckRun:
        from alignment_engine.ruleset.compiler import RulePack

        roles = sorted((r for r in inputs.documents if r.startswith("rules.")), key=_pack_order)
        return cls(
            plan=Plan.model_validate(inputs.documents["plan"].content),
            policy=Policy.model_validate(inputs.documents["policy"].content)
            if "policy" in inputs.documents
            else None,
            packs=tuple(RulePack.model_validate(inputs.documents[r].content) for r in roles),
            compact=is_compact(inputs.run.result_bytes),
            run_id_first=inputs.run.result_bytes.startswith(b'{"run_id"'),
            language=str(inputs.run.options.get("language", "en")),
        )


# -- optimise ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimiseRun:
    """A suggested reallocation of the plan's resources (with response curves fitted from
    history tables when given)."""

    kind: ClassVar[RunKind] = RunKind.OPTIMISE

    plan: Plan
    options: engine.OptimiseOptions = field(default_factory=engine.OptimiseOptions)
    history_results: pd.DataFrame | None = None
    history_allocations: pd.DataFrame | None = None
    compact: bool = False
    run_id_first: bool = False
    # What the moves do to pay (``--policy``): scored for ``period``, in money with
    # ``employees``; ``max_payout_loss`` bounds what any department's bonus may lose.
    policy: Policy | None = None
    period: str | None = None
    employees: pd.DataFrame | None = None
    max_payout_loss: float | None = None

    def pay_model(self) -> Any:
        if self.policy is None:
            return None
        from alignment_engine.incentives import PayModel

        if self.period is None:
            raise InputError(
                "what a reallocation does to pay is scored for a period: give --period",
                key="--period",
            )
        return PayModel(self.plan, self.policy, self.period, self.employees, self.max_payout_loss)

    def record(self, actor: str | None = None) -> RunRecord:
        tables: dict[str, pd.DataFrame] = {}
        if self.history_results is not None and self.history_allocations is not None:
            tables = {
                "history_results": self.history_results,
                "history_allocations": self.history_allocations,
            }
        documents: dict[str, Any] = {"plan": self.plan}
        if self.policy is not None:
            documents["policy"] = self.policy
            if self.employees is not None:
                tables["employees"] = self.employees
        return RunRecord.create(
            self.kind,
            documents=documents,
            tables=tables,
            options={
                "resources": list(self.options.resources or ()),
                "shared_weight": self.options.shared_weight,
                "balance": self.options.balance,
                "keep_total": self.options.keep_total,
            }
            # Only when given: runs without one keep the run hash they always had.
            | ({"increments": dict(self.options.increments)} if self.options.increments else {})
            | (
                {"target": {"kpi": self.options.target[0], "value": self.options.target[1]}}
                if self.options.target is not None
                else {}
            )
            | (
                {
                    "frontier": {
                        "resource": self.options.frontier[0],
                        "points": self.options.frontier[1],
                    }
                }
                if self.options.frontier is not None
                else {}
            )
            | (
                {"period": self.period, "max_payout_loss": self.max_payout_loss}
                if self.policy is not None
                else {}
            ),
            actor=actor,
        )

    def fits(self) -> Fits | None:
        from alignment_engine.optimisation import fit_plan_curves

        if self.history_results is None or self.history_allocations is None:
            return None
        amounts = self.history_allocations[["period", "department", "resource", "amount"]]
        results = self.history_results[["period", "scope", "kpi", "actual"]]
        return fit_plan_curves(
            self.plan,
            list(amounts.itertuples(index=False, name=None)),
            list(results.itertuples(index=False, name=None)),
        )

    def compute(self) -> tuple[Any, Fits | None]:
        fits = self.fits()
        if self.options.target is not None:
            return engine.seek_target(self.plan, self.options, fits=fits), fits
        if self.options.frontier is not None:
            return engine.budget_frontier(self.plan, self.options, fits=fits), fits
        pay = self.pay_model()
        return engine.suggest_reallocation(self.plan, self.options, fits=fits, pay=pay), fits

    def document(self, result: tuple[Any, Fits | None]) -> dict[str, Any]:
        reallocation, fits = result
        if self.options.target is not None:
            return {"target": reallocation.to_dict()}
        if self.options.frontier is not None:
            return {"frontier": reallocation.to_dict()}
        document = engine.reallocation_document(reallocation, fits)
        pay = self.pay_model()
        if pay is not None:
            today = {p.kpi: p.current for p in reallocation.predicted}
            proposed = {p.kpi: p.proposed for p in reallocation.predicted}
            document["incentives"] = pay.impact(today, proposed).to_dict()
        return document

    def output(
        self,
        result: tuple[Any, Fits | None],
        run_id: str,
        *,
        with_run_id: bool = True,
    ) -> RunOutput:
        shown = run_id if with_run_id and self.run_id_first else None
        return RunOutput(
            result_json=result_text(self.document(result), shown, compact=self.compact)
        )

    @classmethod
    def from_stored(cls, inputs: RunInputs) -> OptimiseRun:
        run = inputs.run
        has_history = "history_results" in inputs.tables
        policy = inputs.documents.get("policy")
        return cls(
            policy=None if policy is None else Policy.model_validate(policy.content),
            period=run.options.get("period"),
            employees=_stored_table(inputs, "employees", "EMPLOYEES")
            if policy is not None and "employees" in inputs.tables
            else None,
            max_payout_loss=run.options.get("max_payout_loss"),
            plan=Plan.model_validate(inputs.documents["plan"].content),
            options=engine.OptimiseOptions(
                resources=_resources(run.options),
                shared_weight=float(run.options.get("shared_weight", 0.3)),
                balance=float(run.options.get("balance", 0.1)),
                keep_total=bool(run.options.get("keep_total", False)),
                increments=tuple(
                    (str(r), float(a)) for r, a in (run.options.get("increments") or {}).items()
                ),
                target=_target(run.options.get("target")),
                frontier=_frontier(run.options.get("frontier")),
            ),
            history_results=_stored_table(inputs, "history_results", "ACTUALS")
            if has_history
            else None,
            history_allocations=_stored_table(inputs, "history_allocations", "HISTORY_ALLOCATIONS")
            if has_history
            else None,
            compact=is_compact(run.result_bytes),
            run_id_first=run.result_bytes.startswith(b'{"run_id"'),
        )


def _frontier(recorded: Any) -> tuple[str, int] | None:
    if not isinstance(recorded, Mapping):
        return None
    return str(recorded["resource"]), int(recorded["points"])


def _target(recorded: Any) -> tuple[str, float] | None:
    if not isinstance(recorded, Mapping):
        return None
    return str(recorded["kpi"]), float(recorded["value"])


def _resources(options: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The pools a run was limited to: ``resources`` (a list), or ``resource`` (a name or a
    list) as runs made over HTTP recorded it before they were recorded as the CLI records them."""
    chosen = options.get("resources", options.get("resource"))
    if isinstance(chosen, str):
        return (chosen,)
    return tuple(chosen) if chosen else None


# -- scorecard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorecardRun:
    """The Balanced Scorecard of a period, for the company or one department. ``previous`` is
    the preceding period's scorecard (``run_id``, ``period``, ``scores``), recorded as an input:
    the trend a run showed is replayed from the run alone."""

    kind: ClassVar[RunKind] = RunKind.SCORECARD

    plan: Plan
    actuals: pd.DataFrame
    period: str
    department: str | None = None
    previous: Mapping[str, Any] | None = None
    compact: bool = False

    def record(self, actor: str | None = None) -> RunRecord:
        from alignment_engine.scoring.periods import period_label

        documents: dict[str, Any] = {"plan": self.plan}
        if self.previous is not None:
            documents["previous"] = dict(self.previous)
        return RunRecord.create(
            self.kind,
            period=period_label(self.period),  # the next period's trend looks it up
            documents=documents,
            tables={"actuals": self.actuals},
            options={"plan": self.plan.id, "department": self.department},
            actor=actor,
        )

    def compute(self) -> Scorecard:
        return engine.scorecard(
            self.plan,
            self.actuals,
            self.period,
            department=self.department,
            previous=self.previous,
        )

    def document(self, result: Scorecard) -> dict[str, Any]:
        return result.to_dict()

    def output(self, result: Scorecard, run_id: str, *, with_run_id: bool = True) -> RunOutput:
        shown = run_id if with_run_id else None
        return RunOutput(
            result_json=result_text(self.document(result), shown, compact=self.compact)
        )

    @classmethod
    def from_stored(cls, inputs: RunInputs) -> ScorecardRun:
        run = inputs.run
        if run.period is None:
            raise InputError(f"run {run.id} has no period to score")
        previous = inputs.documents.get("previous")
        return cls(
            plan=Plan.model_validate(inputs.documents["plan"].content),
            actuals=_stored_table(inputs, "actuals", "ACTUALS"),
            period=run.period,
            department=run.options.get("department"),
            previous=None if previous is None else previous.content,
            compact=is_compact(run.result_bytes),
        )


# -- simulate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulateRun:
    """A Monte Carlo of a policy's cost (``policy simulate``): past results resampled, or KPI
    results drawn from distributions, with the seed recorded so the draws replay exactly."""

    kind: ClassVar[RunKind] = RunKind.SIMULATE

    plan: Plan
    policy: Policy
    results: pd.DataFrame | None
    employees: pd.DataFrame
    period: str | None = None
    distributions: pd.DataFrame | None = None
    draws: int = 10_000
    seed: int = 0
    accept_findings: bool = False  # price despite findings that make payouts wrong (recorded)
    compact: bool = False

    def record(self, actor: str | None = None) -> RunRecord:
        tables = {"employees": self.employees}
        if self.results is not None:
            tables["results"] = self.results
        if self.distributions is not None:
            tables["distributions"] = self.distributions
        return RunRecord.create(
            self.kind,
            period=self.period,
            documents={"plan": self.plan, "policy": self.policy},
            tables=tables,
            options={"draws": self.draws, "seed": self.seed}
            | ({"accept_findings": True} if self.accept_findings else {}),
            actor=actor,
        )

    def compute(self) -> SimulationResult:
        return engine.simulate_policy(
            self.plan,
            self.policy,
            self.results,
            self.employees,
            period=self.period,
            distributions=self.distributions,
            draws=self.draws,
            seed=self.seed,
            accept_findings=self.accept_findings,
        )

    def document(self, result: SimulationResult) -> dict[str, Any]:
        return result.to_dict()

    def output(
        self, result: SimulationResult, run_id: str, *, with_run_id: bool = True
    ) -> RunOutput:
        shown = run_id if with_run_id else None
        return RunOutput(
            result_json=result_text(self.document(result), shown, compact=self.compact)
        )

    @classmethod
    def from_stored(cls, inputs: RunInputs) -> SimulateRun:
        run = inputs.run
        return cls(
            plan=Plan.model_validate(inputs.documents["plan"].content),
            policy=Policy.model_validate(inputs.documents["policy"].content),
            results=_stored_table(inputs, "results", "ACTUALS")
            if "results" in inputs.tables
            else None,
            employees=_stored_table(inputs, "employees", "EMPLOYEES"),
            period=run.period,
            distributions=_stored_table(inputs, "distributions", "DISTRIBUTIONS")
            if "distributions" in inputs.tables
            else None,
            draws=int(run.options.get("draws", 10_000)),
            seed=int(run.options.get("seed", 0)),
            accept_findings=bool(run.options.get("accept_findings", False)),
            compact=is_compact(run.result_bytes),
        )


DEFINITIONS: Mapping[str, Any] = {
    RunKind.SCORE.value: ScoreRun,
    RunKind.CHECK.value: CheckRun,
    RunKind.OPTIMISE.value: OptimiseRun,
    RunKind.SCORECARD.value: ScorecardRun,
    RunKind.SIMULATE.value: SimulateRun,
}
"""The run kinds ``runs replay`` recomputes, by name: each has ``from_stored(RunInputs)``."""
