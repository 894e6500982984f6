"""Every error message a CLI user can meet is in the error catalogue (cli/error_catalogue.py),
so ``--lang zh-CN`` prints it in Chinese: a static walk of the source.

The walk finds the message (and suggestion) of every ``Problem(...)``, ``ReferenceProblem``,
``ValueProblem``, ``ExpressionError`` and ``_OverrideFailure``, of every ``raise`` of an error
of the tree (``InputError`` ... ``ForbiddenError``), and of the ``ValueError``s pydantic
validators raise (their text becomes a problem's message). Each message is followed to the
strings it is made of: a literal or f-string as it is; a local variable through its
assignments; a function's parameter through the calls that pass it (``row_problem``,
``collector.add``, ``layer.problem``, ...); a helper's call through its ``return``s. An
f-string's literal pieces must then all be found, in order and nothing else between them,
in one catalogue message (its values standing where the catalogue has ``{placeholders}``).

A message copied from another problem (``p.message``) was checked where it was made. What
cannot be followed is in ``ALLOWED`` below, each with the reason; a new message the catalogue
does not know fails here, naming the file and line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.cli.error_catalogue import MESSAGES
from alignment_engine.i18n import _catalogue, _fields

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "alignment_engine"
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"

SERVICE_ONLY = ("service/",)  # the HTTP service answers in English: not catalogued

# Callables whose arguments are messages: name -> {role: positional index (None: keyword only)}.
MESSAGE_CALLS: dict[str, dict[str, int | None]] = {
    "Problem": {"message": 0, "suggestion": 5},
    "ReferenceProblem": {"message": 1, "suggestion": 2},
    "ValueProblem": {"message": 0},
    "ExpressionError": {"message": 0, "suggestion": 1},
    "_OverrideFailure": {"message": 0, "suggestion": 1},
}
ERRORS = (
    "AlignmentError",
    "InputError",
    "RuleError",
    "PolicyError",
    "ScenarioError",
    "OptimisationError",
    "InfeasibleError",
    "NotFoundError",
    "ConflictError",
    "StorageError",
    "AuthError",
    "ForbiddenError",
)
# pydantic validators' ValueErrors (and PydanticCustomError templates) become problems' messages
# ("Value error, " removed); so do the periods' and rounding's, raised again as InputErrors.
VALIDATING = ("model/", "ruleset/schema.py", "ruleset/test_schema.py", "scoring/periods.py")

# What the walk cannot follow to its words: (file, the start of the expression) -> why. Met
# anywhere in a message (a site's argument, a variable it is assigned from), it is let through.
ALLOWED: dict[tuple[str, str], str] = {
    # pass-through texts of foreign libraries (pydantic's common ones are catalogued)
    ("model/located.py", "error['msg']"): "pydantic's msg about a document's value",
    ("cli/serve.py", "error['msg']"): "pydantic's msg about an ALIGNMENT_* variable",
    ("ruleset/expressions.py", "exc.msg"): "Python's SyntaxError text, as a suggestion",
    # messages of other problems, each located on its own (model/located.py)
    ("model/common.py", "'{summary}'"): "the reference problems, listed one by one",
    # another error's text, raised again (checked where it was raised)
    ("scenarios/sweeps.py", "str(exc)"): "a period's ValueError (scoring/periods.py)",
    ("scoring/score.py", "str(error)"): "a period's ValueError (scoring/periods.py)",
    ("scoring/scorecard.py", "str(error)"): "a period's ValueError (scoring/periods.py)",
    ("scoring/simulation.py", "str(error)"): "a period's ValueError (scoring/periods.py)",
    ("storage/store.py", "str(error)"): "a period's ValueError (scoring/periods.py)",
    ("model/decision_tables.py", "str(error)"): "an Interval.parse ValueError (same file)",
    # built out of sight of the walk (catalogued by hand)
    ("scoring/catalogue.py", "m"): "_curve_points' problems, returned in a tuple",
    # values and punctuation only: the parts are translated where they are made
    ("scoring/ledger.py", "f'{source}: {error}'"): "a lots table's name, a period's error",
}
USED: set[tuple[str, str]] = set()

PLACEHOLDER = re.compile(r"\{\w+\}")
DYNAMIC = None  # a value filled in at run time
MAX_WAYS = 64


class Soft(str):
    """Words a value of a message may read (a conditional's branch, a local variable's
    text): the catalogue may spell them out or have a placeholder for them."""


@dataclass(frozen=True)
class Site:
    """One message (or suggestion) of an error, as the code words it."""

    file: str
    line: int
    role: str
    source: str
    texts: tuple[tuple[str | None, ...], ...]  # each way it can read: literals and values
    followed: bool = True  # False: the walk could not follow it to its words


class _Unfollowed(Exception):
    pass


@cache
def _modules() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(SRC)): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(SRC.rglob("*.py"))
    }


@cache
def _parents(file: str) -> dict[ast.AST, ast.AST]:
    return {
        child: node for node in ast.walk(_modules()[file]) for child in ast.iter_child_nodes(node)
    }


def _called(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _functions(file: str, node: ast.AST) -> Iterator[ast.FunctionDef | ast.Lambda]:
    """The functions around ``node``, innermost first."""
    parents = _parents(file)
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield node  # type: ignore[misc]


def _is_method(file: str, function: ast.FunctionDef | ast.Lambda) -> bool:
    parent = _parents(file).get(function)
    decorators = getattr(function, "decorator_list", [])
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in decorators)
    return isinstance(parent, ast.ClassDef) and not static


def _argument(call: ast.Call, index: int | None, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if index is not None and index < len(call.args):
        found = call.args[index]
        return None if isinstance(found, ast.Starred) else found
    return None


@cache
def _all_calls() -> tuple[tuple[str, ast.Call], ...]:
    return tuple(
        (file, node)
        for file, module in _modules().items()
        for node in ast.walk(module)
        if isinstance(node, ast.Call)
    )


@cache
def _defined() -> dict[str, list[tuple[str, ast.FunctionDef]]]:
    found: dict[str, list[tuple[str, ast.FunctionDef]]] = {}
    for file, module in _modules().items():
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef):
                found.setdefault(node.name, []).append((file, node))
    return found


def _function_defs(
    name: str, near: str, at: ast.AST | None = None
) -> list[tuple[str, ast.FunctionDef]]:
    """Functions called ``name``: one defined in a function around ``at``, else those of
    module ``near`` if it has any, else all of them."""
    if at is not None:
        for function in _functions(near, at):
            local = [
                n for n in ast.walk(function) if isinstance(n, ast.FunctionDef) and n.name == name
            ]
            if local:
                return [(near, n) for n in local]
    found = _defined().get(name, [])
    here = [(f, n) for f, n in found if f == near]
    return here or found


@cache
def _returns(function: ast.FunctionDef) -> list[ast.expr]:
    return [r.value for r in ast.walk(function) if isinstance(r, ast.Return) and r.value]


@cache
def _assignments(function: ast.AST) -> dict[str, list[ast.expr]]:
    found: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
    return found


def _allowed(file: str, node: ast.expr) -> bool:
    source = ast.unparse(node)
    for key in ALLOWED:
        if file == key[0] and source.startswith(key[1]):
            USED.add(key)
            return True
    return False


def _template(text: str) -> tuple[str | None, ...]:
    """A ``str.format`` (or pydantic) template's literal pieces, its fields as values."""
    parts = re.split(r"\{[^{}]*\}", text)
    return tuple(p for piece in parts for p in (piece, DYNAMIC))[:-1]


def _texts(file: str, node: ast.expr, depth: int = 0) -> list[tuple[str | None, ...]]:
    """Each way ``node`` can read: a tuple of literal pieces and ``DYNAMIC`` values."""
    if depth > 6:
        raise _Unfollowed
    if _allowed(file, node) or _copied(node):
        return []
    if isinstance(node, ast.Constant):
        if node.value is None:
            return []
        if isinstance(node.value, str):
            return [(node.value,)]
        raise _Unfollowed
    if isinstance(node, ast.JoinedStr):
        made: list[tuple[str | None, ...]] = [()]
        for value in node.values:
            ways: list[tuple[str | None, ...]]
            if isinstance(value, ast.Constant):
                ways = [(str(value.value),)]
            else:
                assert isinstance(value, ast.FormattedValue)
                ways = _inline(file, value.value, depth)
            made = [before + way for before in made for way in ways]
        if len(made) > MAX_WAYS:  # too many combinations to spell out: values, then
            return [
                tuple(
                    p if isinstance(p, str) and not isinstance(p, Soft) else DYNAMIC
                    for p in made[0]
                )
            ]
        return made
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [
            left + right
            for left in _texts_or_value(file, node.left, depth)
            for right in _texts_or_value(file, node.right, depth)
        ]
    if isinstance(node, ast.IfExp):
        return _texts(file, node.body, depth + 1) + _texts(file, node.orelse, depth + 1)
    if isinstance(node, ast.BoolOp):  # did_you_mean(...) or "expected one of: ..."
        return [text for value in node.values for text in _texts(file, value, depth + 1)]
    if isinstance(node, ast.Name):
        return _name_texts(file, node, depth)
    if isinstance(node, ast.Call):
        name = _called(node.func)
        if (
            name == "format"
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Constant)
        ):
            return [_template(str(node.func.value.value))]
        if name == "join":
            return [(DYNAMIC,)]  # ", ".join(choices): values
        if isinstance(node.func, ast.Name):
            returns = [
                r
                for _, function in _function_defs(node.func.id, file, node)
                for r in _returns(function)
            ]
            if returns:
                return [t for r in returns for t in _texts(file, r, depth + 1)]
    raise _Unfollowed


def _inline(file: str, node: ast.expr, depth: int) -> list[tuple[str | None, ...]]:
    """The ways a value in an f-string reads: the words of a conditional's branches, a local
    variable's assignments or a local helper's returns (``Soft``: a placeholder may stand for
    them), else ``DYNAMIC``. Parameters and other expressions are values."""
    if isinstance(node, ast.IfExp):
        return _inline(file, node.body, depth + 1) + _inline(file, node.orelse, depth + 1)
    if isinstance(node, ast.BoolOp):
        return [way for value in node.values for way in _inline(file, value, depth + 1)]
    owner = _parameter(file, node)
    if owner is not None and (owner.name.startswith("_") or next(_functions(file, owner), None)):
        # A private or local function's parameter: the words its callers pass.
        assert isinstance(node, ast.Name)
        try:
            ways = _passed(file, owner, node.id, depth + 1)
        except _Unfollowed:
            return [(DYNAMIC,)]
        if not ways or len(ways) > MAX_WAYS:
            return [(DYNAMIC,)]
        return [tuple(Soft(p) if isinstance(p, str) else p for p in way) for way in ways]
    inlined = (
        (isinstance(node, ast.Constant) and isinstance(node.value, str))
        or isinstance(node, ast.JoinedStr)
        or (isinstance(node, ast.Name) and _local(file, node))
        or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and any(f == file for f, _ in _function_defs(node.func.id, file))
        )
    )
    if not inlined:
        return [(DYNAMIC,)]
    try:
        ways = _texts(file, node, depth + 1)
    except _Unfollowed:
        return [(DYNAMIC,)]
    if not ways or len(ways) > MAX_WAYS:
        return [(DYNAMIC,)]
    return [tuple(Soft(p) if isinstance(p, str) else p for p in way) for way in ways]


def _local(file: str, node: ast.Name) -> bool:
    """``node`` is a variable assigned in its function (not one of its parameters)."""
    for function in _functions(file, node):
        arguments = function.args
        if node.id in {a.arg for a in (*arguments.posonlyargs, *arguments.args)}:
            return False
        if node.id in {a.arg for a in arguments.kwonlyargs}:
            return False
        if node.id in _assignments(function):
            return True
    return False


def _texts_or_value(file: str, node: ast.expr, depth: int) -> list[tuple[str | None, ...]]:
    try:
        return _texts(file, node, depth + 1) or [(DYNAMIC,)]
    except _Unfollowed:
        return [(DYNAMIC,)]  # ", ".join(...) in "expected one of: " + ", ".join(...)


def _name_texts(file: str, node: ast.Name, depth: int) -> list[tuple[str | None, ...]]:
    for function in _functions(file, node):
        assigned = [
            value
            for value in _assignments(function).get(node.id, [])
            if not _reworded(value, node.id)
        ]
        if assigned:
            return [t for value in assigned for t in _texts(file, value, depth + 1)]
        arguments = function.args
        names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
        keyword_only = [a.arg for a in arguments.kwonlyargs]
        if node.id in names or node.id in keyword_only:
            return _passed(file, function, node.id, depth)
    unpacked = _unpacked(file, node, depth)
    if unpacked is not None:
        return unpacked
    for statement in _modules()[file].body:  # a module's constant
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == node.id for t in statement.targets
        ):
            return _texts(file, statement.value, depth + 1)
    raise _Unfollowed


def _reworded(value: ast.expr, name: str) -> bool:
    """``message = message.removeprefix(...)``: the same text, already followed."""
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and isinstance(value.func.value, ast.Name)
        and value.func.value.id == name
    )


def _passed(
    file: str, function: ast.FunctionDef | ast.Lambda, parameter: str, depth: int
) -> list[tuple[str | None, ...]]:
    """What the callers of ``function`` pass as ``parameter``."""
    if isinstance(function, ast.Lambda):
        raise _Unfollowed
    if function.name == "__init__":
        return []  # an error's own message: each construction of the class is a site
    return [
        text
        for caller_file, _, passed in _calls_passing(file, function, parameter)
        for text in _texts(caller_file, passed, depth + 1)
    ]


def _calls_passing(
    file: str, function: ast.FunctionDef, parameter: str
) -> list[tuple[str, ast.Call, ast.expr]]:
    """The calls of ``function`` (in its own module; a public one's anywhere when it has none
    there) and the argument each passes as ``parameter``."""
    arguments = function.args
    names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    index: int | None = names.index(parameter) if parameter in names else None
    if index is not None and _is_method(file, function):
        index -= 1
    named = [
        (caller_file, call)
        for caller_file, call in _all_calls()
        if _called(call.func) == function.name and not caller_file.startswith(SERVICE_ONLY)
    ]
    callers = [(f, c) for f, c in named if f == file]
    if not callers and not function.name.startswith("_"):
        callers = named
    enclosing = next(_functions(file, function), None)
    if enclosing is not None:  # a local function: called in the function it is defined in
        inside = {id(n) for n in ast.walk(enclosing)}
        callers = [(f, c) for f, c in callers if f == file and id(c) in inside]
    found = []
    for caller_file, call in callers:
        passed = _argument(call, index, parameter)
        if passed is not None:
            found.append((caller_file, call, passed))
    return found


def _parameter(file: str, node: ast.expr) -> ast.FunctionDef | None:
    """The function ``node`` is a parameter of (a message passed in), or None."""
    if not isinstance(node, ast.Name):
        return None
    for function in _functions(file, node):
        if node.id in _assignments(function):
            return None
        arguments = function.args
        every = (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
        if node.id in {a.arg for a in every}:
            return function if isinstance(function, ast.FunctionDef) else None
    return None


def _unpacked(file: str, node: ast.Name, depth: int) -> list[tuple[str | None, ...]] | None:
    """``message, suggestion = describe(position)`` with ``describe`` a parameter: element i
    of what the callers' callbacks (``lambda i: (f"...", None)``) return."""
    for function in _functions(file, node):
        for assign in ast.walk(function):
            if not (
                isinstance(assign, ast.Assign)
                and isinstance(assign.targets[0], ast.Tuple)
                and isinstance(assign.value, ast.Call)
                and isinstance(assign.value.func, ast.Name)
            ):
                continue
            names = [t.id if isinstance(t, ast.Name) else None for t in assign.targets[0].elts]
            if node.id not in names:
                continue
            position = names.index(node.id)
            owner = _parameter(file, assign.value.func)
            if owner is None:
                raise _Unfollowed
            texts: list[tuple[str | None, ...]] = []
            for caller_file, _, callback in _calls_passing(file, owner, assign.value.func.id):
                bodies = [callback.body] if isinstance(callback, ast.Lambda) else []
                if isinstance(callback, ast.Name):
                    bodies = [
                        r
                        for _, f in _function_defs(callback.id, caller_file, callback)
                        for r in _returns(f)
                    ]
                if not bodies:
                    raise _Unfollowed
                for body in bodies:
                    if not isinstance(body, ast.Tuple):
                        raise _Unfollowed
                    texts += _texts(caller_file, body.elts[position], depth + 1)
            return texts
    return None


def _copied(node: ast.expr) -> bool:
    """``p.message``, ``item["suggestion"]``, ``_clipped(p.message, ...)``: another problem's
    text, checked where it was made."""
    copies = ("message", "suggestion")
    if isinstance(node, ast.Attribute):
        return node.attr in copies
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value in copies
    if isinstance(node, ast.Call) and _called(node.func) == "get" and node.args:
        return isinstance(node.args[0], ast.Constant) and node.args[0].value in copies
    if isinstance(node, ast.Call) and _called(node.func) == "_clipped" and node.args:
        return _copied(node.args[0])
    return False


def _message_arguments(file: str, node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(node, ast.Call):
        name = _called(node.func)
        roles: dict[str, int | None] | None = MESSAGE_CALLS.get(name or "")
        if roles is None and file.startswith(VALIDATING):
            validating: dict[str, dict[str, int | None]] = {
                "ValueError": {"message": 0},
                "PydanticCustomError": {"template": 1},
            }
            roles = validating.get(name or "")
        if roles is None and name in ERRORS:
            parent = _parents(file).get(node)
            roles = {"message": 0, "suggestion": None} if isinstance(parent, ast.Raise) else None
        for role, index in (roles or {}).items():
            found = _argument(node, index, role)
            if found is not None:
                yield role, found


@cache
def sites() -> tuple[Site, ...]:
    """Every error message of the code outside the service, followed to its words; a message
    passed in as a parameter (``row_problem(..., message)``) is a site at each call."""
    found: list[Site] = []
    seen: set[int] = set()
    for file, module in _modules().items():
        if file.startswith(SERVICE_ONLY):
            continue
        for node in ast.walk(module):
            for role, argument in _message_arguments(file, node):
                found += _sites_of(file, getattr(node, "lineno", 0), role, argument, seen)
    return tuple(found)


def _sites_of(file: str, line: int, role: str, argument: ast.expr, seen: set[int]) -> list[Site]:
    if id(argument) in seen or _copied(argument):
        return []
    seen.add(id(argument))
    function = _parameter(file, argument)
    if function is not None:
        assert isinstance(argument, ast.Name)
        if function.name == "__init__":
            return []  # an error's own message: each construction of the class is a site
        return [
            site
            for caller_file, call, passed in _calls_passing(file, function, argument.id)
            for site in _sites_of(caller_file, call.lineno, role, passed, seen)
        ]
    if role == "template":  # PydanticCustomError("type", "got {value}", {...})
        role = "message"
        if isinstance(argument, ast.Constant) and not _allowed(file, argument):
            text = _template(str(argument.value))
            return [Site(file, line, role, ast.unparse(argument), (text,))]
    try:
        texts, followed = tuple(_texts(file, argument)), True
    except _Unfollowed:
        texts, followed = (), False
    return [Site(file, line, role, ast.unparse(argument), texts, followed)]


def _words(text: tuple[str | None, ...]) -> str:
    return "".join(p for p in text if p is not None)


def _display(message: str) -> str:
    """A catalogue message as the code writes it: a format string's ``{{`` is one brace."""
    if not PLACEHOLDER.search(re.sub(r"\{\{|\}\}", "", message)):
        return message  # no placeholders: matched exactly, braces and all
    return re.sub(r"\{\{|\}\}", lambda m: m.group()[0], message)


def catalogued(text: tuple[str | None, ...]) -> bool:
    """The literal pieces, in order, are a catalogue message: each value stands where the
    message has a placeholder (or is empty), the words a conditional value may read are
    spelled out or have a placeholder."""
    if not re.sub(r"[\W_]", "", _words(text)):
        return True  # no words to translate (an empty suggestion, "{a}: {b}")
    pattern = "".join(
        r"(?:\{\w+\}|)"
        if p is None
        else rf"(?:{re.escape(p)}|\{{\w+\}}|)"
        if isinstance(p, Soft)
        else re.escape(p)
        for p in text
    )
    return any(re.fullmatch(pattern, message, re.DOTALL) for message in _displayed())


@cache
def _displayed() -> tuple[str, ...]:
    return tuple(_display(m) for m in MESSAGES)


@cache
def _spellings() -> tuple[re.Pattern[str], ...]:
    return tuple(
        re.compile("".join(r"(?:\{\w+\}|)" if p is None else re.escape(p) for p in text))
        for site in sites()
        for text in site.texts
    )


def spelled_out(message: str) -> bool:
    """A catalogue message some error of the code reads as, the words of its conditional
    values spelled out (``... more problem{'s' if rest != 1 else ''} not listed``)."""
    shown = _display(message)
    return any(pattern.fullmatch(shown) for pattern in _spellings())


def _composed(site: Site) -> bool:
    """Values only, or values and punctuation ("{label}: {message}"): nothing to translate,
    and no template could match it back (i18n._patterns skips such messages)."""
    return any(DYNAMIC in t for t in site.texts) and all(
        not re.sub(r"[\W_]", "", _words(t)) for t in site.texts
    )


def test_the_walk_finds_the_error_messages() -> None:
    found = sites()
    assert len(found) > 400, len(found)
    files = {s.file for s in found}
    for expected in ("loading.py", "tables.py", "storage/store.py", "optimisation/feasibility.py"):
        assert expected in files
    # Parameters are followed to their callers: employees' row problems, scenario layers.
    texts = {_words(t) for s in found for t in s.texts}
    assert "'' is not a department of the plan" in texts
    assert "empty" in texts


def test_every_error_message_is_in_the_catalogue() -> None:
    missing = []
    for site in sites():
        if not site.followed or _composed(site):
            missing.append(f"{site.file}:{site.line} {site.role}: {site.source} (not followed)")
            continue
        for text in site.texts:
            if not catalogued(text):
                shown = "".join("{...}" if p is None else p for p in text)
                missing.append(f"{site.file}:{site.line} {site.role}: {shown}")
    assert missing == [], "\n".join(missing)


def test_the_allowlist_names_only_what_the_walk_meets() -> None:
    sites()
    assert sorted(set(ALLOWED) - USED) == []


def test_every_catalogued_message_has_a_translation_keeping_its_placeholders() -> None:
    catalogue = _catalogue("zh-CN")
    untranslated = [m for m in MESSAGES if m not in catalogue]
    assert untranslated == []
    for message in MESSAGES:
        assert sorted(set(PLACEHOLDER.findall(message))) == sorted(
            set(PLACEHOLDER.findall(catalogue[message]))
        ), message
    assert len(set(MESSAGES)) == len(MESSAGES)


def test_no_catalogued_message_is_skipped_by_the_matcher() -> None:
    # A template of values and punctuation only, or with a format spec, is never matched back
    # (braces without a placeholder are literal text, matched exactly: "{alias: condition}").
    for message in MESSAGES:
        if PLACEHOLDER.search(re.sub(r"\{\{|\}\}", "", message)):
            parts = _fields(message)
            assert parts is not None, message
            assert "".join(parts[0::2]).strip(), message


def test_a_new_uncatalogued_message_is_caught() -> None:
    assert not catalogued(
        (
            "zorp the ",
            None,
            " flux capacitor",
        )
    )
    assert catalogued(("unknown key '", None, "'"))
    assert catalogued(("no such file",))


# ---------------------------------------------------------------------------------------------
# End to end: errors of several areas printed in Chinese, the location and ids unchanged.


def _run(*arguments: str) -> tuple[str, str]:
    english = CliRunner().invoke(main, list(arguments))
    chinese = CliRunner().invoke(main, ["--lang", "zh-CN", *arguments])
    assert english.exit_code == chinese.exit_code == 2, (english.output, chinese.output)
    assert chinese.stderr.startswith("错误：")
    return english.stderr, chinese.stderr


def _database(tmp_path: Path) -> list[str]:
    return ["--db", f"sqlite:///{tmp_path / 'runs.db'}"]


def test_a_policy_error_in_chinese_keeps_its_location_and_ids(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    text = POLICY.read_text(encoding="utf-8")
    assert "  sales.revenue_north: revenue" in text
    policy.write_text(text.replace("sales.revenue_north: revenue", "sales.revenue_nrth: revenue"))
    english, chinese = _run(
        "score", "--plan", str(ACME / "plan.yaml"), "--policy", str(policy),
        "--actuals", str(ACME / "actuals-2026-q3.csv"), "--period", "2026-Q3",
        *_database(tmp_path),
    )  # fmt: skip
    location = "policy 'annual-bonus-2026': kpi_curves.sales.revenue_nrth: "
    assert english.strip() == (
        f"error: {location}plan 'acme-2026' has no KPI 'sales.revenue_nrth' "
        "(did you mean 'sales.revenue_north'?)"
    )
    assert chinese.strip() == (
        f"错误：{location}计划 'acme-2026' 中没有 KPI 'sales.revenue_nrth'"
        "（是否想写 'sales.revenue_north'？）"
    )


def test_a_scenario_error_in_chinese_keeps_its_location_and_ids(tmp_path: Path) -> None:
    scenario = tmp_path / "typo.yaml"
    scenario.write_text(
        "kind: scenario\nid: typo\n"
        f"extends: {ACME / 'plan.yaml'}\n"
        "set:\n"
        '  - {path: "departments[salse].kpis[sales.market_share].target", value: 0.22}\n',
        encoding="utf-8",
    )
    english, chinese = _run("scenario", "run", str(scenario), *_database(tmp_path))
    location = f"{scenario}:5:6: departments[salse].kpis[sales.market_share].target: "
    assert english.startswith(
        f"error: {location}segment 'departments[salse]': no item 'salse' in departments; "
        "ids that exist: customer_service, finance,"
    )
    assert chinese.startswith(
        f"错误：{location}路径段 'departments[salse]'：departments 中没有项 'salse'；"
        "现有的标识：customer_service, finance,"
    )
    assert chinese.strip().endswith("sales（是否想写 'sales'？）")


def test_an_unknown_run_id_in_chinese_keeps_the_id_and_the_database(tmp_path: Path) -> None:
    database = _database(tmp_path)
    english, chinese = _run("runs", "show", "deadbeef", *database)
    assert english.strip() == f"error: no run 'deadbeef' in {database[1]}"
    assert chinese.strip() == f"错误：{database[1]} 中没有运行 'deadbeef'"


def test_an_optimisation_error_in_chinese_keeps_the_option_and_the_names(tmp_path: Path) -> None:
    plan = str(ACME / "plan.yaml")
    english, chinese = _run("optimise", plan, "--increment", "budgt=5", *_database(tmp_path))
    assert english.strip() == (
        "error: --increment names 'budgt', which is not a resource of the plan "
        "(did you mean 'budget'?)"
    )
    assert (
        chinese.strip()
        == "错误：--increment 指定的 'budgt' 不是计划中的资源（是否想写 'budget'？）"
    )
    english, chinese = _run("optimise", plan, "--frontier", "budgt", *_database(tmp_path))
    assert english.strip() == "error: --frontier names 'budgt', which is not a resource"
    assert chinese.strip() == "错误：--frontier 指定的 'budgt' 不是资源"


def test_a_message_made_of_messages_is_translated_part_by_part() -> None:
    from alignment_engine.cli.error_messages import error_words
    from alignment_engine.i18n import using

    with using("zh-CN"):
        # {error}, {reason} and {..._words} hold the code's own words, translated in turn.
        assert error_words(
            "after the scenario's changes, the plan is invalid: unknown key 'nmae'"
        ) == ("应用情景的变更后，计划无效：未知的键 'nmae'")
        assert error_words("resource 'budget': minimums sum to 1,200, but capacity is 1,000") == (
            "资源 'budget'：各最低值之和为 1,200，但容量为 1,000"
        )
        assert error_words(
            "only 3 of 10 KPI results found for 2026-Q3: the actuals hold 2026-Q2"
        ) == ("只找到 2026-Q3 的 KPI 结果 3 个（共 10 个）：实际数据包含 2026-Q2")
        # A value the user wrote is never translated, even when it reads as a message.
        assert error_words("unknown key 'a number'") == "未知的键 'a number'"
