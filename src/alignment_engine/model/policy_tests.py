"""The ``kind: policy-tests`` document: cases of results and employees, and what the policy must
pay on them (pure models; :mod:`alignment_engine.policytests` runs them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from alignment_engine.model.common import Document, Id, Number

__all__ = ["PolicyExpectation", "PolicyTestCase", "PolicyTestFile"]


class PolicyExpectation(Document):
    """What scoring the case must give; keys left out are not compared."""

    kpi_factors: dict[Id, Number] = Field(default_factory=dict)
    department_factors: dict[Id, Number] = Field(default_factory=dict)
    gates_fired: list[Id] | None = None
    payouts: dict[str, Number | str] = Field(default_factory=dict)
    total: Number | str | None = None

    @model_validator(mode="after")
    def _something(self) -> PolicyExpectation:
        if not (
            self.kpi_factors
            or self.department_factors
            or self.gates_fired is not None
            or self.payouts
            or self.total is not None
        ):
            raise ValueError(
                "expect nothing? give kpi_factors, department_factors, gates_fired, payouts "
                "or total"
            )
        return self


class PolicyTestCase(Document):
    name: str = Field(min_length=1)
    description: str = ""
    period: str | None = None
    actuals_file: str | None = None
    actuals: dict[Id, Number] = Field(default_factory=dict)
    employees: list[dict[str, Any]] | None = None
    employees_file: str | None = None
    expect: PolicyExpectation

    @model_validator(mode="after")
    def _inputs(self) -> PolicyTestCase:
        if self.employees is not None and self.employees_file is not None:
            raise ValueError("give employees or employees_file, not both")
        return self


class PolicyTestFile(Document):
    kind: Literal["policy-tests"] = "policy-tests"
    id: Id
    description: str = ""
    policy_file: str = Field(min_length=1)
    plan_file: str = Field(min_length=1)
    period: str | None = None
    actuals_file: str | None = None
    employees_file: str | None = None
    cases: list[PolicyTestCase] = Field(min_length=1)
