"""The package's public names: all importable, and enough to use it as a library."""

from __future__ import annotations

from pathlib import Path

import alignment_engine

ACME = Path(__file__).resolve().parent.parent / "scenarios" / "acme"


def test_every_public_name_resolves() -> None:
    # Their order is ruff's (RUF022, isort-style), checked by the linter.
    names = alignment_engine.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(alignment_engine, name) is not None


def test_the_readme_example_runs() -> None:
    from alignment_engine import check_plan, plan_from_yaml

    plan = plan_from_yaml(ACME / "plan.yaml")
    rules = {finding["rule"] for finding in check_plan(plan).to_dict()["findings"]}
    assert rules == {"cascade-gap", "opposing-targets", "resource-oversubscription", "trade-off"}
