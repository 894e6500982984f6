"""What-if scenarios: extends chains, overrides addressed by id, sweeps, runs and comparisons.

A scenario names a plan (directly or through other scenarios, ``extends:``), optionally a policy,
forecast actuals and employees, and changes (``set:``) addressed by id::

    departments[sales].kpis[sales.market_share].target
    resources[budget].allocation.marketing          (or resources[budget].allocation[marketing])
    company_kpis[company.revenue].target
    policy.caps.employee                            (a ``policy.`` path changes the policy)

The package has three layers, one job per module:

* pure: ``paths`` (:func:`parse_path`), ``overrides`` (:func:`apply_overrides`,
  :func:`plan_with_overrides`, :func:`policy_with_overrides`), ``sweeps``
  (:func:`sweep_variants`, :func:`latest_period`) and ``compare`` (:func:`compare_results`);
* the runner: ``inputs`` (:class:`ScenarioInputs`), ``results`` (:class:`ScenarioResult`) and
  ``runner`` (:func:`run_inputs`, :func:`compare_inputs`) call the engine on documents that are
  already read, which is what the HTTP service uses;
* the file adapter: ``files`` (:func:`read_inputs`: a plan or a scenario file, its ``extends``
  chain resolved with paths relative to each file, cycles refused; :func:`run_scenario`,
  :func:`compare_paths`, :func:`check_scenario_file`).
"""

from alignment_engine.scenarios.compare import compare_results
from alignment_engine.scenarios.files import (
    check_scenario_file,
    compare_paths,
    read_inputs,
    run_scenario,
)
from alignment_engine.scenarios.inputs import ScenarioInputs, inputs_from_documents
from alignment_engine.scenarios.overrides import (
    LocatedOverride,
    apply_overrides,
    plan_with_overrides,
    policy_with_overrides,
)
from alignment_engine.scenarios.paths import PathSegment, parse_path
from alignment_engine.scenarios.results import Comparison, ScenarioResult, VariantResult
from alignment_engine.scenarios.runner import compare_inputs, run_inputs
from alignment_engine.scenarios.sweeps import Variant, latest_period, sweep_variants

__all__ = [
    "Comparison",
    "LocatedOverride",
    "PathSegment",
    "ScenarioInputs",
    "ScenarioResult",
    "Variant",
    "VariantResult",
    "apply_overrides",
    "check_scenario_file",
    "compare_inputs",
    "compare_paths",
    "compare_results",
    "inputs_from_documents",
    "latest_period",
    "parse_path",
    "plan_with_overrides",
    "policy_with_overrides",
    "read_inputs",
    "run_inputs",
    "run_scenario",
    "sweep_variants",
]
