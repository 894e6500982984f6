"""``check``: a plan's alignment and conflict findings, from the shipped rules and users' own.

    >>> from alignment_engine.checking import check_plan
    >>> result = check_plan(plan, policy)          # doctest: +SKIP
    >>> result.to_dict()["summary"]["total"]       # doctest: +SKIP

Safe to call from many threads at once: the rule engine adapter runs every evaluation on its
one engine thread, and everything else here is per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from alignment_engine.collector import collector_paused
from alignment_engine.errors import PolicyError, Problem
from alignment_engine.model import Plan, Policy, policy_plan_problems
from alignment_engine.model.findings import CheckResult, summarise
from alignment_engine.rulepacks import PackSource, load_packs, program_for
from alignment_engine.ruleset.compiler import RuleProgram
from alignment_engine.ruleset.evaluation import evaluate_program
from alignment_engine.ruleset.facts import Fact, facts_from_plan

__all__ = ["check_facts", "check_plan"]


def _check_policy(plan: Plan, policy: Policy) -> None:
    """The policy must name this plan's KPIs and departments (missing levels are findings)."""
    problems = [
        p
        for p in policy_plan_problems(policy, plan)
        if p.path[:1] in (("kpi_curves",), ("gates",), ("tables",), ("matrices",))
        and "has no" in p.message
    ]
    if problems:
        raise PolicyError(
            problems=[
                Problem(
                    p.message,
                    f"<policy {policy.id}>",
                    key=".".join(str(part) for part in p.path),
                    suggestion=p.suggestion,
                )
                for p in problems
            ]
        )


def check_facts(
    facts: Sequence[Fact], program: RuleProgram, language: str = "en", **summary: object
) -> CheckResult:
    """Run a compiled program over ready-made facts (rule tests use this)."""
    evaluation = evaluate_program(program, facts, language)
    return CheckResult(
        findings=evaluation.findings,
        summary=summarise(
            evaluation.findings,
            packs=list(program.packs),
            rules=len(program.findings),
            derived_facts=evaluation.derived,
            **summary,
        ),
    )


def check_plan(
    plan: Plan,
    policy: Policy | None = None,
    extra_packs: Iterable[PackSource] = (),
    language: str = "en",
) -> CheckResult:
    """Every finding of the shipped packs (and ``extra_packs``) on a plan, sorted.

    ``language`` (``zh-CN``): each finding whose rule has texts in it carries them as its
    ``translation`` (its message and suggestion stay English).

    With a policy, the incentive rules (``incentive-misalignment``) run too; the policy must fit
    the plan (its KPI ids exist), or a PolicyError says what does not.
    """
    if policy is not None:
        _check_policy(plan, policy)
    program = program_for(load_packs(extra_packs))
    reads = {c.fact_type for rule in program.rules for c in rule.conditions}
    with collector_paused():  # a large plan's facts and findings all live to the end
        return check_facts(
            facts_from_plan(plan, policy, reads),
            program,
            language,
            plan=plan.id,
            policy=policy.id if policy is not None else None,
        )
