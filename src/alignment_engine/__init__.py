"""alignment-engine: keeps departments pulling in the same direction and pays them fairly for it."""

from alignment_engine.errors import (
    AlignmentError,
    InputError,
    OptimisationError,
    PolicyError,
    RuleError,
    ScenarioError,
)
from alignment_engine.model import Plan, Policy, Scenario

__version__ = "0.1.0"

__all__ = [
    "AlignmentError",
    "InputError",
    "OptimisationError",
    "Plan",
    "Policy",
    "PolicyError",
    "RuleError",
    "Scenario",
    "ScenarioError",
    "__version__",
]
