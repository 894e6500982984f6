"""The limits of durable_rules' C engine that the adapter keeps to (defects 4 and 7 in
:mod:`alignment_engine.ruleset.durable.engine`): checked in Python before anything reaches C."""

from __future__ import annotations

from typing import Final

# Limits. Each mirrors a constant of the C engine (file and name in the comment).

#: MAX_ACTIONS (rete.c): durable rules per ruleset. The adapter uses one for its sentinel and
#: one per negated alias on top of one per rule.
MAX_RULES_PER_RULESET: Final = 4096
#: MAX_OBJECT_PROPERTIES (state.h) leaves 254 usable slots; the adapter adds id, sid and its
#: fact marker. Nested objects count one per key at every level; a list counts one.
MAX_FACT_PROPERTIES: Final = 251
#: MAX_MESSAGE_FRAMES (state.h): facts held by one match.
MAX_ALIASES_PER_RULE: Final = 16
#: NEXT_BUCKET_LENGTH (rules.h) is 512 and findAlpha loops for ever once it is full, which the
#: 513th distinct condition after the same test does. The adapter stops well before.
MAX_BRANCHES_PER_CONDITION: Final = 500
#: NEXT_LIST_LENGTH (rules.h) is 128 and is scanned for a zero one past the end when full.
MAX_NOT_EXISTS_PER_CONDITION: Final = 100
#: BETA_LIST_LENGTH (rules.h) is 256; linking a 257th alias to one condition writes past it.
MAX_ALIASES_PER_CONDITION: Final = 200
#: MAX_STACK_SIZE (events.c): 64 conditions pending while one fact is matched.
MAX_PENDING_CONDITIONS: Final = 60
#: MAX_SEQUENCE_EXPRESSIONS (rete.h): 32 slots, 31 usable, per alias.
MAX_SEQUENCE_LENGTH: Final = 31
#: reduceString (events.c) takes lengths as unsigned short.
MAX_STRING_BYTES: Final = 65535
#: durable keeps about 8 KB per stored fact; this bounds one evaluation to about 2 GB.
MAX_FACTS_PER_EVALUATION: Final = 250_000
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
#: States that could not be armed are never deleted (defect 1); this many rebuild the ruleset,
#: which keeps live states far below durable's 1,024 (defect 4).
MAX_RETIRED_STATES: Final = 32
#: Children per alpha node, and aliases ending on one test, before the adapter spreads them
#: under always-true bucket tests (see spread_wide_nodes).
FAN: Final = 8
ENDS_PER_TEST: Final = 100
#: Matches handed over per action (durable's ``cap``): fewer round trips through Python.
MATCHES_PER_ACTION: Final = 1000
