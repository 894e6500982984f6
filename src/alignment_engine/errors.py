"""The exception tree of alignment-engine.

Every error the engine raises on purpose is an :class:`AlignmentError`. Each class carries the HTTP
status the decision service answers with and the exit code the CLI ends with, so both edges render
errors the same way without knowing the subclasses. Every exception class of the package is in
this drawing, where it is defined beside it (``tests/test_errors_tree.py`` checks the drawing
against the code)::

    Exception
    ├── AlignmentError                  500 / exit 1   (unexpected: a bug)
    │   ├── InputError                  422 / exit 2   a file, table or request is wrong (file:line:column)
    │   │   ├── RuleError               422 / exit 2   a rule pack does not compile, or the engine failed
    │   │   ├── PolicyError             422 / exit 2   a policy cannot be applied to a plan
    │   │   └── ScenarioError           422 / exit 2   extends/set/sweep cannot be resolved
    │   ├── OptimisationError           422 / exit 2   the reallocation cannot be computed
    │   │   └── InfeasibleError         422 / exit 2   no allocation satisfies the constraints
    │   ├── NotFoundError               404 / exit 2   a run, document or token does not exist
    │   ├── ConflictError               409 / exit 2   the request clashes with stored state (final runs)
    │   │   └── JobLostError            409 / exit 2   jobs.py: a job taken over by another worker
    │   ├── StorageError                503 / exit 2   the database failed
    │   ├── AuthError                   401 / exit 2   no or bad credentials
    │   │   └── ForbiddenError          403 / exit 2   credentials without the needed role
    │   ├── PayloadTooLargeError        413            service/errors.py: a body over the limit
    │   ├── MethodNotAllowedError       405            service/errors.py: with an Allow header
    │   ├── TimeLimitError              504            service/errors.py: past time_limit_seconds
    │   ├── NotReadyError               503            service/errors.py: /readyz not ready
    │   ├── OverBudgetError             422            service/isolation.py: a request's memory or work budget
    │   └── ChildError                  (the child's)  service/isolation.py: an error from a decision process
    ├── ExpressionError                                ruleset/expressions.py: a rule expression, at an offset;
    │   └── _Unsupported                               ruleset/compiler.py   the compiler raises a located RuleError
    ├── ValueProblem                                   ruleset/durable/jsontext.py: a value durable cannot take
    ├── _OverrideFailure                               scenarios/overrides.py: raised as a located ScenarioError
    ├── _Refused                                       optimisation/fitting.py: a curve the history cannot fit
    └── ValueError
        ├── FormulaError                               scoring/formula.py: a policy formula; raised as PolicyError
        └── _DuplicateKeyError                         service/limits.py: a JSON body's repeated key; a 422

Foreign exceptions (yaml, pydantic, durable_rules, SQLAlchemy, scipy) are translated at the adapter
that calls them, with ``raise OurError(...) from exc``; nothing above the adapters sees them, and
neither do the parse errors below ``AlignmentError``'s siblings: they are caught where the text
they describe is known and raised again as a located error of the tree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows.

    ``file`` is the source (a file, a request member such as ``actuals``, or ``<policy id>``);
    a document problem has a ``line`` and ``column`` and the ``key`` path inside the document;
    a table problem has the data ``row`` as the file numbers it and the table column as its
    ``key``. :meth:`render` is the one place these become text, and the service maps the same
    fields to a JSON path.
    """

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    key: str | None = None
    suggestion: str | None = None
    row: int | None = None

    def location(self) -> str:
        """``file:line:column`` or ``file:row N`` as far as known; empty when the problem is
        in no file (a run id, an employee id typed on the command line)."""
        if self.file is None and self.line is None and self.row is None:
            return ""
        parts = [self.file or "<input>"]
        if self.row is not None:
            return f"{parts[0]}:row {self.row}"
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        """The problem as one line; ``translate`` (English text -> the reader's language) is
        applied to the frame's words, the message and the suggestion, never to the location."""
        say = translate or _as_is
        location = self.location()
        if self.row is not None:
            location = f"{self.file or '<input>'}:" + say(f"row {self.row}")
        text = f"{location}: " if location else ""
        if self.key and self.row is not None:
            text += say(f"column '{self.key}'") + ": "
        elif self.key:
            text += f"{self.key}: "
        text += say(self.message)
        if self.suggestion:
            text += say(f" ({say(self.suggestion)})")
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "row": self.row,
            "key": self.key,
            "message": self.message,
            "suggestion": self.suggestion,
        }


class AlignmentError(Exception):
    """Base of every error alignment-engine raises on purpose."""

    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The body of the one JSON error shape: ``{"error": {code, message, details}}``."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InputError(AlignmentError):
    """An input document or table is wrong. Carries every problem found, each located."""

    status = 422
    exit_code = 2
    code = "invalid_input"

    def __init__(
        self,
        message: str | None = None,
        *,
        problems: Sequence[Problem] = (),
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        found = list(problems)
        if not found:
            found = [
                Problem(
                    message=message or "invalid input",
                    file=file,
                    line=line,
                    column=column,
                    key=key,
                    suggestion=suggestion,
                )
            ]
        found = _bounded(found)
        self.problems: list[Problem] = found
        first = found[0]
        self.file = first.file
        self.line = first.line
        self.column = first.column
        self.key = first.key
        self.suggestion = first.suggestion
        text = "\n".join(p.render() for p in found)
        super().__init__(text, details=[p.to_dict() for p in found])


MAX_PROBLEMS = 100
"""Problems an error lists; the rest are counted. A body with 200,000 unknown keys would
otherwise answer with a 100 MB error (and the first ones are what to fix first)."""
MAX_MESSAGE_CHARS = 1_000
MAX_KEY_CHARS = 200


def _clipped(text: str | None, limit: int) -> str | None:
    """Text quoted back to the user (a 100 KB id, say), cut to ``limit`` characters."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def _bounded(problems: list[Problem]) -> list[Problem]:
    kept = [
        Problem(
            message=_clipped(p.message, MAX_MESSAGE_CHARS) or "",
            file=_clipped(p.file, MAX_KEY_CHARS),
            line=p.line,
            column=p.column,
            key=_clipped(p.key, MAX_KEY_CHARS),
            suggestion=_clipped(p.suggestion, MAX_MESSAGE_CHARS),
            row=p.row,
        )
        if len(p.message) > MAX_MESSAGE_CHARS
        or len(p.key or "") > MAX_KEY_CHARS
        or len(p.file or "") > MAX_KEY_CHARS
        or len(p.suggestion or "") > MAX_MESSAGE_CHARS
        else p
        for p in problems[:MAX_PROBLEMS]
    ]
    if len(problems) > MAX_PROBLEMS:
        rest = len(problems) - MAX_PROBLEMS
        kept.append(
            Problem(
                f"... and {rest:,} more problem{'s' if rest != 1 else ''} not listed",
                suggestion="fix the ones above first",
            )
        )
    return kept


class RuleError(InputError):
    """A rule pack does not compile, or the rule engine could not evaluate it."""

    code = "invalid_rules"


class PolicyError(InputError):
    """A policy cannot be applied to the plan or the results it is given."""

    code = "invalid_policy"


class ScenarioError(InputError):
    """A scenario's extends chain, overrides or sweep cannot be resolved."""

    code = "invalid_scenario"


class OptimisationError(AlignmentError):
    """The reallocation could not be computed."""

    status = 422
    exit_code = 2
    code = "optimisation_failed"


class InfeasibleError(OptimisationError):
    """No allocation satisfies the constraints; the message names the constraint."""

    code = "infeasible"


class NotFoundError(AlignmentError):
    """A stored run, document or token asked for does not exist (or the caller may not read
    it)."""

    status = 404
    exit_code = 2
    code = "not_found"


class ConflictError(AlignmentError):
    """The request contradicts what is stored: a final period re-scored with other inputs, an
    approval by the run's own maker, a run that is not in the state the step needs."""

    status = 409
    exit_code = 2
    code = "conflict"


class StorageError(AlignmentError):
    """The database cannot be reached or is not in a state this engine can use."""

    # Exit 2, not 1: the CLI keeps 1 for "--fail-on found something", so a CI gate can tell
    # a finding from a database it could not reach.
    status = 503
    exit_code = 2
    code = "storage_unavailable"


class AuthError(AlignmentError):
    status = 401
    exit_code = 2
    code = "unauthorized"


class ForbiddenError(AuthError):
    status = 403
    code = "forbidden"


__all__ = [
    "AlignmentError",
    "AuthError",
    "ConflictError",
    "ForbiddenError",
    "InfeasibleError",
    "InputError",
    "NotFoundError",
    "OptimisationError",
    "PolicyError",
    "Problem",
    "RuleError",
    "ScenarioError",
    "StorageError",
]
