"""The durable_rules adapter under load, each scenario in its own process.

A defect in the C engine kills the process that hit it (SIGSEGV, SIGFPE), so the scenarios in
durable_stress_worker.py run in subprocesses: a crash fails the test with its signal and stderr
instead of taking pytest down. Timings are printed, never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

WORKER = Path(__file__).with_name("durable_stress_worker.py")


def run_scenario(name: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-X", "faulthandler", str(WORKER), name],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"scenario {name} ended with {result.returncode} (negative: killed by that signal)\n"
        f"{result.stderr}"
    )
    assert result.stderr == ""
    measured: dict[str, Any] = json.loads(result.stdout)
    print(name, measured)
    return measured


def test_ten_thousand_sequential_evaluations_repeat_exactly() -> None:
    assert run_scenario("sequential")["evaluations"] == 10_000


def test_sixteen_threads_get_the_sequential_results() -> None:
    assert run_scenario("threads")["evaluations"] == 16 * 150


def test_evaluations_that_find_nothing() -> None:
    assert run_scenario("no_findings")["evaluations"] == 6_000


def test_pairwise_join_over_forty_thousand_kpis() -> None:
    measured = run_scenario("big_join")
    assert measured["facts"] == 40_000
    assert measured["matches"] > 2_000


def test_facts_derived_later_join_facts_asserted_earlier() -> None:
    assert run_scenario("derived_joins")["joined"] == 12


def test_memory_stays_flat_over_two_thousand_evaluations() -> None:
    measured = run_scenario("memory")
    assert measured["rss_after_mb"] - measured["rss_before_mb"] < 4


@pytest.mark.parametrize("name", ["nonexistent"])
def test_a_failing_scenario_is_reported(name: str) -> None:
    with pytest.raises(AssertionError, match="ended with 1"):
        run_scenario(name)
