"""The file adapter: read a plan or a scenario file and its ``extends`` chain, then run it.

Paths in a scenario are relative to the file that names them; cycles are refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignment_engine import engine
from alignment_engine.errors import Problem, ScenarioError
from alignment_engine.loading import LoadedYaml, model_from_data, read_text, yaml_from_text
from alignment_engine.model import Plan, Scenario, did_you_mean
from alignment_engine.scenarios.inputs import ScenarioInputs
from alignment_engine.scenarios.overrides import LocatedOverride
from alignment_engine.scenarios.results import Comparison, ScenarioResult
from alignment_engine.scenarios.runner import check_inputs, compare_inputs, run_inputs

MAX_CHAIN = 32  # a longer extends chain is a mistake, not a design


@dataclass(frozen=True)
class _Layer:
    scenario: Scenario
    file: Path
    loaded: LoadedYaml

    def locate(self, *path: str | int) -> tuple[int | None, int | None]:
        return self.loaded.locate(path)

    def problem(self, key: str, message: str, suggestion: str | None = None) -> Problem:
        line, column = self.locate(key)
        return Problem(message, str(self.file), line, column, key, suggestion)


def _beside(file: Path, relative: str) -> Path:
    """``relative`` read from ``file``'s folder, with ``..`` collapsed (links are kept)."""
    return Path(os.path.normpath(file.parent / relative))


def _missing_file(layer: _Layer, key: str, target: Path) -> ScenarioError:
    if target.exists():  # a folder, a device (/dev/zero) or a pipe: there, but not a file
        return ScenarioError(
            problems=[
                layer.problem(
                    key,
                    f"'{getattr(layer.scenario, key)}' is not a regular file ({target})",
                    "name a plan or scenario YAML file",
                )
            ]
        )
    siblings = (
        sorted(p.name for p in target.parent.iterdir() if p.suffix == target.suffix)
        if target.parent.is_dir()
        else []
    )
    return ScenarioError(
        problems=[
            layer.problem(
                key,
                f"file '{getattr(layer.scenario, key)}' does not exist (looked in {target.parent})",
                did_you_mean(target.name, siblings),
            )
        ]
    )


def _read_document(path: Path) -> tuple[str, LoadedYaml]:
    loaded = yaml_from_text(read_text(path), str(path))
    kind = loaded.data.get("kind") if isinstance(loaded.data, Mapping) else None
    return str(kind), loaded


def _chain(path: Path) -> tuple[list[_Layer], Plan, Path]:
    """The scenario layers (outermost first) and the plan at the end of the chain."""
    layers: list[_Layer] = []
    current = path
    seen: list[Path] = []
    while True:
        resolved = current.resolve()
        if resolved in seen:
            cycle = " -> ".join(str(p) for p in [*seen[seen.index(resolved) :], resolved])
            raise ScenarioError(
                problems=[
                    layers[-1].problem(
                        "extends",
                        f"the extends chain goes round in a circle: {cycle}",
                        "make one scenario extend the plan instead",
                    )
                ]
            )
        if len(seen) >= MAX_CHAIN:
            raise ScenarioError(
                problems=[
                    layers[-1].problem(
                        "extends", f"the extends chain is longer than {MAX_CHAIN} files"
                    )
                ]
            )
        seen.append(resolved)
        kind, loaded = _read_document(current)
        if kind == "plan":
            return layers, model_from_data(Plan, loaded), current
        if kind != "scenario":
            if layers:
                raise ScenarioError(
                    problems=[
                        layers[-1].problem(
                            "extends",
                            f"'{layers[-1].scenario.extends}' is "
                            + (
                                "not a YAML document with a 'kind:'"
                                if kind == "None"
                                else f"a {kind} file"
                            )
                            + "; a scenario extends a plan or another scenario",
                        )
                    ]
                )
            line, column = loaded.locate(("kind",))
            raise ScenarioError(
                f"expected a plan or a scenario, found kind '{kind}'",
                file=str(current),
                line=line,
                column=column,
                key="kind",
            )
        layer = _Layer(model_from_data(Scenario, loaded), current, loaded)
        layers.append(layer)
        target = _beside(current, layer.scenario.extends)
        if not target.is_file():
            raise _missing_file(layer, "extends", target)
        current = target


def _located_overrides(layer: _Layer) -> list[LocatedOverride]:
    found = []
    for index, override in enumerate(layer.scenario.set):
        line, column = layer.locate("set", index, "path")
        found.append(LocatedOverride(override.path, override.value, str(layer.file), line, column))
    return found


def _nearest(layers: Sequence[_Layer], key: str) -> tuple[_Layer, Any] | None:
    """The outermost layer that sets ``key`` (an outer scenario replaces what it extends)."""
    for layer in layers:
        value = getattr(layer.scenario, key)
        if value is not None:
            return layer, value
    return None


def _file_of(layers: Sequence[_Layer], key: str) -> Path | None:
    found = _nearest(layers, key)
    if found is None:
        return None
    layer, value = found
    target = _beside(layer.file, str(value))
    if not target.is_file():
        raise _missing_file(layer, key, target)
    return target


def read_inputs(path: str | Path) -> ScenarioInputs:
    """Read a plan or a scenario file, with its extends chain, policy and tables."""
    from alignment_engine.loading import policy_from_yaml
    from alignment_engine.tables import ACTUALS, EMPLOYEES, read_table

    start = Path(path)
    if not start.is_file():
        raise ScenarioError("no such file" if not start.exists() else "not a file", file=str(path))
    layers, plan, plan_file = _chain(start)
    files = (*(str(layer.file) for layer in layers), str(plan_file))
    if not layers:
        return ScenarioInputs(id=plan.id, name=plan.name, plan=plan, files=files, is_scenario=False)
    overrides: list[LocatedOverride] = []
    for layer in reversed(layers):  # the one nearest the plan first; outer layers win
        overrides += _located_overrides(layer)
    policy_file = _file_of(layers, "policy")
    actuals_file = _file_of(layers, "actuals")
    employees_file = _file_of(layers, "employees")
    period = _nearest(layers, "period")
    sweep_layer = next((layer for layer in layers if layer.scenario.sweep is not None), None)
    sweep = None
    sweep_values: tuple[Any, ...] = ()
    if sweep_layer is not None and sweep_layer.scenario.sweep is not None:
        line, column = sweep_layer.locate("sweep", "path")
        sweep = LocatedOverride(
            sweep_layer.scenario.sweep.path, None, str(sweep_layer.file), line, column
        )
        sweep_values = tuple(sweep_layer.scenario.sweep.values)
    outer = layers[0].scenario
    return ScenarioInputs(
        id=outer.id,
        name=outer.name,
        plan=plan,
        overrides=tuple(overrides),
        sweep=sweep,
        sweep_values=sweep_values,
        policy=policy_from_yaml(policy_file) if policy_file else None,
        actuals=read_table(actuals_file, ACTUALS) if actuals_file else None,
        employees=read_table(employees_file, EMPLOYEES) if employees_file else None,
        period=str(period[1]) if period else None,
        files=files,
    )


def run_scenario(
    path: str | Path,
    *,
    rule_dirs: Sequence[str | Path] = (),
    options: engine.OptimiseOptions | None = None,
    against_base: bool = True,
) -> ScenarioResult:
    """Read a scenario (or a plan) and run it: see :func:`run_inputs`."""
    return run_inputs(
        read_inputs(path), rule_dirs=rule_dirs, options=options, against_base=against_base
    )


def compare_paths(
    a: str | Path,
    b: str | Path,
    *,
    rule_dirs: Sequence[str | Path] = (),
    options: engine.OptimiseOptions | None = None,
) -> Comparison:
    """Compare two plans or scenarios: see :func:`compare_inputs`."""
    return compare_inputs(read_inputs(a), read_inputs(b), rule_dirs=rule_dirs, options=options)


def check_scenario_file(path: str | Path) -> None:
    """Resolve a scenario as ``scenario run`` would (extends chain, files, every override and
    sweep value applied and the result validated) without running the engine; raises the
    same errors. ``validate`` uses this so that a file it accepts also runs."""
    check_inputs(read_inputs(path))
