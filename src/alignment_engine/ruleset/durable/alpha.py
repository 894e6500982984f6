"""The alpha network durable_rules will build, simulated to keep it inside the C engine's
fixed-size arrays, and wide nodes spread under always-true bucket tests (defect 7 in
:mod:`alignment_engine.ruleset.durable.engine`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from alignment_engine.ruleset.durable.conditions import (
    Condition,
    Group,
    LiteralValue,
    Test,
    make_test,
)
from alignment_engine.ruleset.durable.errors import rule_problem
from alignment_engine.ruleset.durable.ids import MARK, fnv1_32
from alignment_engine.ruleset.durable.jsontext import Scalar
from alignment_engine.ruleset.durable.limits import (
    ENDS_PER_TEST,
    FAN,
    MAX_ALIASES_PER_CONDITION,
    MAX_BRANCHES_PER_CONDITION,
    MAX_NOT_EXISTS_PER_CONDITION,
    MAX_PENDING_CONDITIONS,
)

# ---------------------------------------------------------------------------------------------
# The alpha network durable will build (rete.c createAlpha/findAlpha/linkAlpha), simulated to
# keep it inside the C engine's fixed-size arrays.


class _AlphaNode:
    __slots__ = ("aliases", "branches", "equalities", "not_exists", "others")

    def __init__(self) -> None:
        self.branches: dict[object, _AlphaNode] = {}  # its hash set of conditions
        self.not_exists: dict[object, _AlphaNode] = {}  # its list of $nex and $or ends
        self.equalities: dict[int, list[object]] = {}  # literal $eq values per field hash
        self.others = 0  # other children, any of which a fact may match at once
        self.aliases = 0  # aliases ending here


def _shared_key(value: Scalar) -> object:
    """What durable's compareValue treats as the same literal (null never is)."""
    if value is None:
        return object()
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("double", value)
    return ("string", value)


def _loose_key(value: Scalar) -> object:
    """Equality values one field value may satisfy together: durable compares numbers,
    booleans and numeric text loosely."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return None if value is None else float(value)


def _simulate(condition: Condition, parent: _AlphaNode) -> _AlphaNode:
    if isinstance(condition, Group):
        if condition.op == "$and":
            node = parent
            for item in condition.items:
                node = _simulate(item, node)
            return node
        forward = _AlphaNode()
        for item in condition.items:
            end = _simulate(item, parent)
            end.not_exists[object()] = forward
            end.others += 1
        return forward
    field_hash = fnv1_32(condition.internal)
    operand = condition.operand
    if operand is None or isinstance(operand, LiteralValue):
        value = operand.value if isinstance(operand, LiteralValue) else 1
        key: object = (condition.op, field_hash, _shared_key(value))
    else:
        key = object()  # references and expressions are never shared
    children = parent.not_exists if condition.op == "$nex" else parent.branches
    child = children.get(key)
    if child is None:
        child = children[key] = _AlphaNode()
        if (
            condition.op == "$eq"
            and isinstance(operand, LiteralValue)
            and operand.value is not None
        ):
            parent.equalities.setdefault(field_hash, []).append(_loose_key(operand.value))
        else:
            parent.others += 1
    return child


def _pending(node: _AlphaNode, memo: dict[int, int]) -> int:
    """Worst-case growth of durable's alpha stack while a fact is matched below ``node``."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = 0  # $or ends share a node (a DAG, never a cycle)
    width = node.others
    for values in node.equalities.values():
        width += max(values.count(value) for value in values)
    children = (*node.branches.values(), *node.not_exists.values())
    deepest = max((_pending(child, memo) for child in children), default=0)
    memo[id(node)] = max(width, width - 1 + deepest) if width else 0
    return memo[id(node)]


def _nodes(node: _AlphaNode, seen: set[int]) -> Iterator[_AlphaNode]:
    if id(node) not in seen:
        seen.add(id(node))
        yield node
        for child in (*node.branches.values(), *node.not_exists.values()):
            yield from _nodes(child, seen)


class _TrieNode:
    """A node of the alpha network as the aliases' test chains share it."""

    __slots__ = ("children", "ends", "entries", "weight")

    def __init__(self, weight: int = 1) -> None:
        self.children: dict[object, _TrieNode] = {}
        self.entries: list[tuple[int, int]] = []  # (chain, position) of the test leading here
        self.ends: list[int] = []  # chains whose last test this is
        self.weight = weight  # durable nodes it stands for (an $or: one per branch)


def _trie_key(item: Condition) -> object:
    """The identity durable's findAlpha gives a test under a given parent."""
    if isinstance(item, Test) and (item.operand is None or isinstance(item.operand, LiteralValue)):
        value = item.operand.value if isinstance(item.operand, LiteralValue) else 1
        return (item.op, fnv1_32(item.internal), _shared_key(value))
    return object()  # references, expressions and $or groups are never shared


def _bucket_test(value: int) -> Test:
    """A test every asserted fact passes (its mark is 1); distinct values, distinct nodes."""
    return make_test("$neq", MARK, LiteralValue(value))


def spread_wide_nodes(chains: Sequence[list[Condition]]) -> None:
    """Insert always-true bucket tests so that no alpha node has more than FAN children and
    no test ends more than ENDS_PER_TEST aliases. durable evaluates every child of a node a
    fact reaches and keeps the matching ones on a 64-entry stack; with buckets the stack holds
    a few siblings per level instead of every rule's next test."""
    root = _TrieNode()
    for number, chain in enumerate(chains):
        node = root
        for position, item in enumerate(chain):
            key = _trie_key(item)
            child = node.children.get(key)
            if child is None:
                weight = len(item.items) if isinstance(item, Group) else 1
                child = node.children[key] = _TrieNode(weight)
            child.entries.append((number, position))
            node = child
        node.ends.append(number)
    inserts: dict[int, list[tuple[int, list[Condition]]]] = {}
    pending = [root]
    while pending:
        node = pending.pop()
        children = list(node.children.values())
        pending.extend(children)
        if len(children) > 1 and sum(child.weight for child in children) > FAN:
            for digits, child in zip(_bucket_digits(children), children, strict=True):
                tests: list[Condition] = [_bucket_test(2 + digit) for digit in digits]
                for number, position in child.entries:
                    inserts.setdefault(number, []).append((position, tests))
        if len(node.ends) > ENDS_PER_TEST:
            for order, number in enumerate(node.ends):
                test = _bucket_test(-1 - order // ENDS_PER_TEST)
                inserts.setdefault(number, []).append((len(chains[number]), [test]))
    for number, places in inserts.items():
        chain = chains[number]
        for position, tests in sorted(places, key=lambda place: place[0], reverse=True):
            chain[position:position] = tests


def _bucket_digits(children: Sequence[_TrieNode]) -> list[tuple[int, ...]]:
    """Bucket numbers, as base-FAN digits, for children filled in order up to FAN each."""
    buckets: list[int] = []
    bucket, load = -1, FAN
    for child in children:
        if load + child.weight > FAN:
            bucket, load = bucket + 1, 0
        load += child.weight
        buckets.append(bucket)
    levels = 1
    while FAN**levels < buckets[-1] + 1:
        levels += 1
    return [tuple((b // FAN**level) % FAN for level in reversed(range(levels))) for b in buckets]


def check_alpha_network(ruleset: str, conditions: Sequence[tuple[str, Condition]]) -> None:
    root = _AlphaNode()
    for rule_name, condition in conditions:
        end = _simulate(condition, root)
        end.aliases += 1
        if end.aliases > MAX_ALIASES_PER_CONDITION:
            raise rule_problem(
                ruleset,
                rule_name,
                f"more than {MAX_ALIASES_PER_CONDITION} aliases have the same condition "
                "(durable_rules links at most 256 aliases to one condition)",
                "vary the conditions or split the ruleset",
            )
    for node in _nodes(root, set()):
        if len(node.branches) > MAX_BRANCHES_PER_CONDITION:
            raise rule_problem(
                ruleset,
                None,
                f"{len(node.branches)} different conditions follow the same test; durable_rules "
                f"hangs above 511 and this adapter allows {MAX_BRANCHES_PER_CONDITION}",
                "use fewer alternatives in one $or, or give rules a common first test",
            )
        if len(node.not_exists) > MAX_NOT_EXISTS_PER_CONDITION:
            raise rule_problem(
                ruleset,
                None,
                f"{len(node.not_exists)} $nex tests and $or branches follow the same test; "
                f"this adapter allows {MAX_NOT_EXISTS_PER_CONDITION}",
            )
    depth = _pending(root, {})
    if depth > MAX_PENDING_CONDITIONS:
        raise rule_problem(
            ruleset,
            None,
            f"one fact could match {depth} conditions at once; durable_rules tracks at most 64 "
            f"(this adapter allows {MAX_PENDING_CONDITIONS})",
            "start rules with a more selective common test, or split the ruleset",
        )
