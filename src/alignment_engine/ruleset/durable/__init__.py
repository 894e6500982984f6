"""The durable_rules adapter: the only code that imports durable_rules (stock PyPI 2.0.28).

Its interface is what this module exports: :class:`RuleEngine` evaluates facts against
rulesets in durable_rules' JSON format and returns :class:`Match` objects; ``compile_ruleset``
checks a ruleset against every limit of the C engine without building it; the ``MAX_*``
constants are those limits; ``evaluate_shards`` evaluates a rule's shards in turn, a forked
child running ahead where it can (``ahead``). ``engine`` explains the defects of durable_rules and what the
adapter does about each; its siblings are pure Python and never import durable_rules.
"""

from alignment_engine.ruleset.durable.ahead import Evaluated, evaluate_shards, evaluates_ahead
from alignment_engine.ruleset.durable.compiling import compile_ruleset
from alignment_engine.ruleset.durable.engine import RuleEngine
from alignment_engine.ruleset.durable.limits import (
    MAX_ALIASES_PER_RULE,
    MAX_BRANCHES_PER_CONDITION,
    MAX_FACT_PROPERTIES,
    MAX_FACTS_PER_EVALUATION,
    MAX_RULES_PER_RULESET,
    MAX_STRING_BYTES,
)
from alignment_engine.ruleset.durable.matches import Match, Outcome

__all__ = [
    "MAX_ALIASES_PER_RULE",
    "MAX_BRANCHES_PER_CONDITION",
    "MAX_FACTS_PER_EVALUATION",
    "MAX_FACT_PROPERTIES",
    "MAX_RULES_PER_RULESET",
    "MAX_STRING_BYTES",
    "Evaluated",
    "Match",
    "Outcome",
    "RuleEngine",
    "compile_ruleset",
    "evaluate_shards",
    "evaluates_ahead",
]
