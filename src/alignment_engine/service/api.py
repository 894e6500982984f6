"""The HTTP API's request and response models (separate from the domain models and the tables).

Requests hold documents as the files hold them (``plan``, ``policy``, ``scenario``) or name a
stored version by its content hash (``plan_id``, ``policy_id``); tables are lists of rows with the
files' columns. Responses are the CLI's ``--format json`` shapes plus ``run_id``; the documented keys
are declared (so the OpenAPI document says what a client may rely on) and further keys the engine
adds are allowed through unchanged.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alignment_engine import Plan, Policy, Scenario, engine
from alignment_engine.tables import PERIOD_PATTERN

__all__ = [
    "ActualRow",
    "AdjustmentRow",
    "CheckRequest",
    "CheckResponse",
    "EmployeeRow",
    "ErrorBody",
    "Health",
    "JobOptions",
    "JobStatus",
    "OptimiseOptions",
    "OptimiseRequest",
    "OptimiseResponse",
    "Readiness",
    "RunResponse",
    "ScenarioOptions",
    "ScenarioRunRequest",
    "ScenarioRunResponse",
    "ScoreJobRequest",
    "ScoreOptions",
    "ScoreRequest",
    "ScoreResponse",
    "ScorecardRequest",
    "ScorecardResponse",
    "engine_options",
]


class _Request(BaseModel):
    """Unknown keys are errors, as in the files (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Period = Annotated[
    str,
    Field(
        pattern=PERIOD_PATTERN,
        examples=["2026-Q3"],
        description="a year (2026), a quarter (2026-Q3) or a month (2026-07)",
    ),
]
DocumentHash = Annotated[
    str,
    Field(
        pattern=r"^([0-9a-f]{64}|[A-Za-z0-9][A-Za-z0-9._-]{0,199}(@[A-Za-z0-9][A-Za-z0-9._-]{0,199})?)$",
        description="a stored document version: its content hash (sha256, as `runs show` lists "
        "under inputs), a release `name@version` (POST /v1/plans, /v1/policies; `docs push`), "
        "or a release `name` alone: the version effective throughout the request's period (the "
        "newest pushed where the request has no period)",
        examples=["acme-plan@2026.2"],
    ),
]

RunId = Annotated[
    str,
    Field(pattern=r"^[0-9a-f]{4,32}$", description="a run id (or a unique prefix of 4+ digits)"),
]


# ---------------------------------------------------------------------------------------------
# Rows


class _Row(_Request):
    """A table row. Empty cells may come as empty strings (what a CSV reader gives for them):
    they mean "not given", as in the files, not a value to validate."""

    @model_validator(mode="before")
    @classmethod
    def _empty_cells(cls, data: Any) -> Any:
        # Optional cells only: a blank required one reaches the table loader, which names its
        # row as it does for a file.
        if isinstance(data, dict) and any(
            isinstance(v, str) and not v.strip() for v in data.values()
        ):
            fields = cls.model_fields
            return {
                k: None
                if isinstance(v, str)
                and not v.strip()
                and k in fields
                and not fields[k].is_required()
                else v
                for k, v in data.items()
            }
        return data


class ActualRow(_Row):
    """One row of actuals: a KPI's result (``kpi``, ``actual``) or a base measure (``measure``,
    ``value``) for a metric with a formula."""

    period: Period
    scope: Text = Field(description="company, a department id, or a shared goal id")
    kpi: Text | None = None
    actual: FiniteFloat | None = None
    measure: Text | None = None
    value: FiniteFloat | None = None


class EmployeeRow(_Row):
    employee_id: Text
    department: Text
    target_bonus: FiniteFloat | None = Field(
        default=None,
        description="the bonus at a factor of 1; or give salary and target_bonus_percent",
    )
    salary: FiniteFloat | None = Field(default=None, description="with target_bonus_percent")
    target_bonus_percent: FiniteFloat | None = Field(
        default=None, description="the target bonus as a percentage of salary (15 for 15%)"
    )
    individual_score: FiniteFloat | None = Field(default=None, description="factor; default 1")
    start_date: date | None = None
    end_date: date | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    name: str | None = None
    cost_centre: str | None = Field(default=None, description="carried to the payout tables")
    grade: str | None = Field(default=None, description="carried to the payout tables")


class FxRow(_Row):
    """An exchange rate, as a row of `score --fx` gives it."""

    period: Text
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    rate: FiniteFloat = Field(description="units of currency per 1 of the policy's currency")


class AdjustmentRow(_Row):
    """A manual adjustment after scoring, as a row of `score --adjustments` gives it."""

    employee_id: Text
    amount: str | FiniteFloat = Field(
        description="exact in the policy's smallest unit (send text, e.g. '1250.00', to keep it so)"
    )
    reason: Text = Field(description="a reason code")
    note: str | None = None


# ---------------------------------------------------------------------------------------------
# Requests


class _PlanMembers(_Request):
    plan: Plan | None = Field(default=None, description="the plan document, as in a plan file")
    plan_id: DocumentHash | None = None

    @model_validator(mode="after")
    def _one_plan(self) -> _PlanMembers:
        if (self.plan is None) == (self.plan_id is None):
            raise ValueError("give either 'plan' (the document) or 'plan_id' (a stored version)")
        return self


def _at_most_one_policy(policy: Policy | None, policy_id: str | None) -> None:
    if policy is not None and policy_id is not None:
        raise ValueError("give either 'policy' or 'policy_id', not both")


class CheckOptions(_Request):
    """``check`` has no options over HTTP; the server's rule folders apply to every check."""


class CheckRequest(_PlanMembers):
    policy: Policy | None = None
    policy_id: DocumentHash | None = None
    options: CheckOptions = CheckOptions()

    @model_validator(mode="after")
    def _policy(self) -> CheckRequest:
        _at_most_one_policy(self.policy, self.policy_id)
        return self


class ScoreOptions(_Request):
    explanations: Literal["full", "compact", "none"] = Field(
        default="full",
        description="full: each employee's whole payout chain; compact: per-employee numbers, "
        "the department part once under explanation_templates; none: left out",
    )
    accept_findings: bool = Field(
        default=False,
        description="pay even though the plan has findings that make payouts wrong on KPIs "
        "this run pays on (weights not summing to 1, a missing target, levels out of order); "
        "recorded in the run",
    )
    restates: RunId | None = Field(
        default=None,
        description="re-score a period whose run is final (late or corrected actuals): the id "
        "of the period's final score run; the answer adds 'restates', per-employee "
        "'adjustments' and totals.adjustment, and the final run stays as it is",
    )


class ScoreRequest(_PlanMembers):
    policy: Policy | None = None
    policy_id: DocumentHash | None = None
    actuals: list[ActualRow] = Field(min_length=1)
    employees: list[EmployeeRow] | None = None
    fx: list[FxRow] | None = Field(
        default=None,
        description="exchange rates paying employees in their currency (period, currency, rate)",
    )
    adjustments: list[AdjustmentRow] | None = Field(
        default=None, description="manual adjustments applied after scoring (needs employees)"
    )
    period: Period
    options: ScoreOptions = ScoreOptions()

    @model_validator(mode="after")
    def _policy(self) -> ScoreRequest:
        _at_most_one_policy(self.policy, self.policy_id)
        if self.policy is None and self.policy_id is None:
            raise ValueError("scoring needs a policy: give 'policy' or 'policy_id'")
        return self


class JobOptions(_Request):
    explanations: Literal["full", "compact", "none"] = Field(
        default="full", description="as for /v1/score"
    )
    accept_findings: bool = Field(default=False, description="as for /v1/score")


class ScoreJobRequest(_PlanMembers):
    """The ``request`` part of ``POST /v1/jobs/score``: a score request without its rows, which
    come as files (parts named ``actuals``, ``employees``, ``adjustments``, ``fx``: CSV, Parquet
    or Excel, as the CLI reads them) or as tables already stored (``tables``, by hash)."""

    policy: Policy | None = None
    policy_id: DocumentHash | None = None
    period: Period
    tables: dict[Literal["actuals", "employees", "adjustments", "fx"], DocumentHash] = Field(
        default_factory=dict,
        description="tables already stored (a run's inputs, by content hash) instead of files",
    )
    options: JobOptions = JobOptions()

    @model_validator(mode="after")
    def _policy(self) -> ScoreJobRequest:
        _at_most_one_policy(self.policy, self.policy_id)
        if self.policy is None and self.policy_id is None:
            raise ValueError("scoring needs a policy: give 'policy' or 'policy_id'")
        return self


class JobStatus(_Request):
    """A background job: its state and progress, and once it has finished its run (or error)."""

    job_id: str
    kind: str
    state: Literal["queued", "running", "completed", "failed"]
    period: str | None
    actor: str
    submitted_at: str
    started_at: str | None
    finished_at: str | None
    attempts: int = Field(
        description="workers that have taken the job (more than one: a worker died)"
    )
    progress: dict[str, Any] = Field(description="the stage reached (and rows being scored)")
    run_id: str | None = Field(description="the run the job made, once completed")
    error: dict[str, Any] | None = Field(description="the error body, once failed")
    inputs: dict[str, dict[str, str]] = Field(description="the documents and tables, by hash")
    links: dict[str, str]


class EstimateRequest(_PlanMembers):
    policy: Policy | None = None
    policy_id: DocumentHash | None = None
    period: Period
    actuals: list[ActualRow] = Field(
        min_length=1, description="the hypothetical results, as a score's actuals"
    )
    employee: EmployeeRow | None = Field(
        default=None, description="the one employee to estimate (else only department factors)"
    )
    department: Text | None = Field(
        default=None, description="the department whose factor to give (default: the employee's)"
    )
    accept_findings: bool = False

    @model_validator(mode="after")
    def _policy(self) -> EstimateRequest:
        _at_most_one_policy(self.policy, self.policy_id)
        if self.policy is None and self.policy_id is None:
            raise ValueError("an estimate needs a policy: give 'policy' or 'policy_id'")
        if self.employee is None and self.department is None:
            raise ValueError("give the 'employee' to estimate, or a 'department'")
        return self


class ScorecardRequest(_PlanMembers):
    actuals: list[ActualRow] = Field(min_length=1)
    period: Period
    department: Text | None = Field(
        default=None,
        description="one department's scorecard: its KPIs (its subtree's, through 'parent') "
        "and the shared goals it belongs to; company KPIs are left out",
    )


class OptimiseOptions(_Request):
    resource: Text | list[Text] | None = Field(
        default=None, description="only this resource pool (or these pools)"
    )
    shared_weight: FiniteFloat = Field(default=0.3, ge=0, le=1)
    balance: FiniteFloat = Field(default=0.1, ge=0)
    keep_total: bool = False
    increments: dict[Text, FiniteFloat] | None = Field(
        default=None,
        description="allocate only new money: resource -> the amount added (every department "
        "keeps today's amount; only these resources move), as `optimise --increment`",
    )


class HistoryRow(_Row):
    """One past period's KPI result (``scope``, ``kpi``, ``actual``) or one department's amount
    of a resource (``department``, ``resource``, ``amount``), for curves marked ``fit: history``."""

    period: Period
    scope: Text | None = None
    kpi: Text | None = None
    actual: FiniteFloat | None = None
    department: Text | None = None
    resource: Text | None = None
    amount: FiniteFloat | None = None


class OptimiseRequest(_PlanMembers):
    options: OptimiseOptions = OptimiseOptions()
    history: list[HistoryRow] | None = Field(
        default=None,
        description="past KPI results and allocations, for response curves marked 'fit: history'",
    )
    policy: Policy | None = Field(
        default=None,
        description="also report what the moves do to each department's bonus (`--policy`)",
    )
    policy_id: DocumentHash | None = None
    period: Period | None = Field(default=None, description="the period whose pay is scored")
    employees: list[EmployeeRow] | None = Field(
        default=None,
        description="the bonus changes in money (roles that see pay only; else 403)",
    )
    max_payout_loss: FiniteFloat | None = Field(
        default=None,
        ge=0,
        lt=1,
        description="no department may lose more than this share of its bonus (needs a policy)",
    )

    @model_validator(mode="after")
    def _pay_inputs(self) -> OptimiseRequest:
        _at_most_one_policy(self.policy, self.policy_id)
        has_policy = self.policy is not None or self.policy_id is not None
        if not has_policy and (self.employees or self.max_payout_loss is not None):
            raise ValueError("'employees' and 'max_payout_loss' go with 'policy' or 'policy_id'")
        if has_policy and self.period is None:
            raise ValueError("a policy's pay is scored for a period: give 'period'")
        return self


class ScenarioOptions(OptimiseOptions):
    against_base: bool = Field(
        default=True, description="also run the plan without the changes and compare"
    )


class ScenarioRunRequest(_PlanMembers):
    """A scenario's ``set`` and ``sweep`` applied to the plan given here. The scenario's file
    references (``extends``, ``policy``, ``actuals``, ``employees``) are not read over HTTP: the
    request's members stand in for them. Without ``scenario`` the plan runs as it is."""

    scenario: Scenario | None = None
    policy: Policy | None = None
    policy_id: DocumentHash | None = None
    actuals: list[ActualRow] | None = None
    employees: list[EmployeeRow] | None = None
    period: Period | None = None
    options: ScenarioOptions = ScenarioOptions()

    @model_validator(mode="after")
    def _policy(self) -> ScenarioRunRequest:
        _at_most_one_policy(self.policy, self.policy_id)
        return self


def engine_options(options: OptimiseOptions) -> engine.OptimiseOptions:
    """The engine's optimisation options from the request's."""
    chosen = options.resource
    resources = (chosen,) if isinstance(chosen, str) else tuple(chosen) if chosen else None
    return engine.OptimiseOptions(
        resources=resources,
        shared_weight=options.shared_weight,
        balance=options.balance,
        keep_total=options.keep_total,
        increments=tuple((options.increments or {}).items()),
    )


# ---------------------------------------------------------------------------------------------
# Responses


class Finding(_Response):
    rule: str
    kind: Literal["alignment", "conflict"]
    severity: Literal["low", "medium", "high", "critical"]
    departments: list[str]
    kpis: list[str]
    objectives: list[str]
    resources: list[str]
    message: str
    suggestion: str | None


class CheckResponse(_Response):
    run_id: str
    findings: list[Finding]
    summary: dict[str, Any]


class KpiScore(_Response):
    scope: str
    kpi: str
    actual: float | None
    target: float | None
    attainment: float | None
    payout_factor: float | None
    curve: str
    gates: list[Any]


class DepartmentScore(_Response):
    department: str
    score: float | None
    payout_factor: float | None


class EmployeePayout(_Response):
    employee_id: str
    department: str
    payout: float
    factor: float | None
    explanation: dict[str, Any] | None


class ScoreTotals(_Response):
    payout: float
    pool: float | None
    scale: float | None


class ScorecardStanding(_Response):
    score: float | None
    status: Literal["green", "amber", "red", "no-data", "not-due"]


class PerspectiveStanding(ScorecardStanding):
    perspective: str


class ObjectiveStanding(ScorecardStanding):
    objective: str
    perspective: str
    kpis: list[str]


class KpiStanding(ScorecardStanding):
    scope: str
    kpi: str
    actual: float | None
    target: float | None
    attainment: float | None


class ScorecardResponse(_Response):
    """Each item also has ``previous`` and ``change`` when ``compared_with`` names the
    preceding period's stored scorecard."""

    run_id: str
    plan: str
    period: str
    department: str | None
    compared_with: dict[str, Any] | None
    overall: ScorecardStanding
    perspectives: list[PerspectiveStanding]
    objectives: list[ObjectiveStanding]
    kpis: list[KpiStanding]


class ScoreResponse(_Response):
    run_id: str
    period: str
    kpis: list[KpiScore]
    departments: list[DepartmentScore]
    employees: list[EmployeePayout]
    totals: ScoreTotals


class Allocation(_Response):
    resource: str
    department: str
    current: float | None
    proposed: float | None
    change: float | None
    marginal_value: float | None


class Prediction(_Response):
    kpi: str
    current: float | None
    proposed: float | None


class OptimiseResponse(_Response):
    run_id: str
    status: str
    objective: float | None
    allocations: list[Allocation]
    predicted: list[Prediction]


class ScenarioRunResponse(_Response):
    run_id: str
    scenario: str
    table: list[dict[str, Any]] = Field(description="one summary row per variant")
    variants: list[dict[str, Any]] = Field(
        description="each variant's check, score and optimise results"
    )


ReleaseLabel = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$", examples=["acme-plan", "2026.2"]),
]


class _ReleaseMembers(_Request):
    name: ReleaseLabel
    version: ReleaseLabel
    effective_from: date | None = Field(default=None, description="first day it applies")
    effective_to: date | None = Field(default=None, description="last day it applies")


class PlanReleaseRequest(_ReleaseMembers):
    plan: Plan


class PolicyReleaseRequest(_ReleaseMembers):
    policy: Policy


class ReleaseResponse(_Response):
    kind: str
    name: str
    version: str
    reference: str = Field(description="name@version: what plan_id and policy_id accept")
    hash: str
    effective_from: date | None
    effective_to: date | None
    created_at: str
    created_by: str


class ReleasesResponse(_Response):
    releases: list[ReleaseResponse]


class RunResponse(_Response):
    """A stored run: who asked, what went in (by content hash) and exactly what came out."""

    id: str
    kind: Literal["check", "score", "optimise", "scenario"]
    status: str
    period: str | None
    run_hash: str
    engine_version: str
    actor: str
    started_at: str
    finished_at: str
    inputs: dict[str, dict[str, str]]
    result: Any = Field(description="the response the run gave, as it was sent")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    checks: dict[str, str]


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: Any = Field(
        description="for invalid input: a list of problems, each with its JSON path "
        "(`path`), `message` and `suggestion`"
    )


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer."""

    error: ErrorInfo
