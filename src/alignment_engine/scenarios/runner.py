"""The runner: documents already read -> engine calls (what the HTTP service uses)."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from alignment_engine import engine
from alignment_engine.errors import OptimisationError
from alignment_engine.model import Plan, Policy
from alignment_engine.scenarios.compare import compare_results
from alignment_engine.scenarios.inputs import ScenarioInputs
from alignment_engine.scenarios.overrides import plan_with_overrides, policy_with_overrides
from alignment_engine.scenarios.results import Comparison, ScenarioResult, VariantResult
from alignment_engine.scenarios.sweeps import Variant


class _Result(Protocol):
    """What the engine returns: an object that renders its ``--format json`` shape (docs/cli.md)."""

    def to_dict(self) -> dict[str, Any]: ...


def _result_dict(result: _Result) -> dict[str, Any]:
    """``result.to_dict()``; a score result leaves the per-employee explanations out (a
    scenario compares and charts amounts; ``score`` is the command that explains them)."""
    to_dict: Callable[..., dict[str, Any]] = result.to_dict
    try:
        parameters = inspect.signature(to_dict).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        parameters = {}  # type: ignore[assignment]
    if "explanations" in parameters:
        return to_dict(explanations="none")
    return to_dict()


@dataclass(frozen=True)
class _Prepared:
    """A variant with its changed plan and policy, validated before any engine call."""

    variant: Variant
    plan: Plan
    policy: Policy | None


def _prepare(inputs: ScenarioInputs, variant: Variant) -> _Prepared:
    return _Prepared(
        variant,
        plan_with_overrides(inputs.plan, variant.overrides),
        policy_with_overrides(inputs.policy, variant.overrides),
    )


def _run_variant(
    inputs: ScenarioInputs,
    prepared: _Prepared,
    rule_dirs: Sequence[str | Path],
    options: engine.OptimiseOptions,
    language: str = "en",
) -> VariantResult:
    variant, plan, policy = prepared.variant, prepared.plan, prepared.policy
    check, translations = _english(
        _result_dict(engine.check_plan(plan, policy, rule_dirs, language=language))
    )
    score = None
    period = None
    if policy is not None and inputs.actuals is not None:
        period = inputs.scoring_period()
        score = _result_dict(
            # A what-if, not a payroll: a variant that unbalances weights is still scored,
            # and its check (beside it) lists the findings that would stop the real run.
            engine.score_period(
                plan,
                policy,
                inputs.actuals,
                inputs.employees,
                typing.cast(str, period),
                accept_findings=True,
            )
        )
    scorecard = None
    if inputs.actuals is not None:
        # The forecast scorecard beside the forecast pay (no policy needed).
        period = period or inputs.scoring_period()
        scorecard = engine.scorecard(plan, inputs.actuals, typing.cast(str, period)).to_dict()
    optimise = None
    if plan.resources:
        try:
            optimise = _result_dict(engine.suggest_reallocation(plan, options))
        except OptimisationError as error:
            # A what-if may make the reallocation impossible; the other results still stand.
            optimise = {
                "status": error.code,
                "objective": None,
                "allocations": [],
                "predicted": [],
                "message": error.message,
            }
    return VariantResult(
        variant.label,
        variant.value,
        variant.swept,
        plan,
        policy,
        period,
        check,
        score,
        optimise,
        scorecard=scorecard,
        translations=translations,
    )


def _english(
    check: dict[str, Any],
) -> tuple[dict[str, Any], tuple[dict[str, Any] | None, ...]]:
    """The check without its findings' translations (results stay English, whatever language
    the command speaks), and those translations in the findings' order (none in English)."""
    findings = check.get("findings") or []
    translations = tuple(finding.get("translation") for finding in findings)
    if not any(translation is not None for translation in translations):
        return check, ()
    english = [{k: v for k, v in f.items() if k != "translation"} for f in findings]
    return {**check, "findings": english}, translations


def run_inputs(
    inputs: ScenarioInputs,
    *,
    rule_dirs: Sequence[str | Path] = (),
    options: engine.OptimiseOptions | None = None,
    against_base: bool = True,
    language: str = "en",
) -> ScenarioResult:
    """Check, score (with a policy and actuals) and optimise (with resources) each variant.

    With ``against_base``, the plan without the scenario's changes is run too, and each variant
    carries its comparison with it (``compare``): what the changes add and resolve. In another
    ``language`` each variant also carries its findings' texts in it (``translations``).
    """
    chosen = options or engine.OptimiseOptions()
    # Every variant's plan is built first: a bad override fails before any work is done.
    prepared = [_prepare(inputs, variant) for variant in inputs.variants()]
    base = None
    if against_base and (inputs.overrides or inputs.sweep is not None):
        base = _run_variant(
            inputs, _prepare(inputs, Variant("base", ())), rule_dirs, chosen, language
        )
    results = []
    for variant in prepared:
        result = _run_variant(inputs, variant, rule_dirs, chosen, language)
        if base is not None:
            result = replace(result, compare=compare_results(base.run(), result.run()))
        results.append(result)
    sweep = None
    if inputs.sweep is not None:
        sweep = {"path": inputs.sweep.path, "values": list(inputs.sweep_values)}
    return ScenarioResult(
        inputs.id,
        inputs.name,
        inputs.files,
        inputs.overrides,
        sweep,
        tuple(results),
        base,
    )


def compare_inputs(
    a: ScenarioInputs,
    b: ScenarioInputs,
    *,
    rule_dirs: Sequence[str | Path] = (),
    options: engine.OptimiseOptions | None = None,
    language: str = "en",
) -> Comparison:
    """Run A and B (each without its sweep) and compare them. A side without a policy or
    actuals borrows the other's, so both are scored alike. ``language``: as for
    :func:`run_inputs`."""
    chosen = options or engine.OptimiseOptions()
    left, right = a.borrowing(b), b.borrowing(a)
    prepared_a = _prepare(left, Variant(a.id, a.overrides))
    prepared_b = _prepare(right, Variant(b.id, b.overrides))
    run_a = _run_variant(left, prepared_a, rule_dirs, chosen, language)
    run_b = _run_variant(right, prepared_b, rule_dirs, chosen, language)
    return Comparison(run_a, run_b, a.id, b.id, compare_results(run_a.run(), run_b.run()))


def check_inputs(inputs: ScenarioInputs) -> None:
    """Apply every override and sweep value and validate the results, as :func:`run_inputs`
    does first, without running the engine; raises the same errors."""
    for variant in inputs.variants():
        _prepare(inputs, variant)
