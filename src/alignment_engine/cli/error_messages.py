"""Errors as the CLI prints them: in the language of the command (``--lang``).

Errors are made in English where they arise (the service answers in English; the pure core
knows no language). Printing one, the CLI translates its frame (``column``, ``row``) and each
problem's message and suggestion through the catalogue (:func:`alignment_engine.i18n.translate`),
which matches a message with its values filled in against the messages marked in
:mod:`.error_catalogue`. A message
the catalogue does not know stays English; the location, ids and keys never change. The
values of ``{error}``, ``{reason}`` and ``{..._words}`` placeholders are the code's own words
(another error's message, a clause, "a number"), translated in turn.
"""

from __future__ import annotations

from alignment_engine.cli.error_catalogue import MESSAGES
from alignment_engine.errors import AlignmentError, InputError, Problem
from alignment_engine.i18n import current, translate

__all__ = ["error_text", "error_words", "problem_text"]


def problem_text(problem: Problem) -> str:
    """``Problem.render()`` in the command's language."""
    return problem.render(error_words)


def error_text(error: AlignmentError) -> str:
    """What ``error: ...`` says on stderr, in the command's language."""
    if current() == "en":
        return error.message
    if isinstance(error, InputError):
        return "\n".join(problem_text(p) for p in error.problems)
    return error_words(error.message)


def error_words(text: str) -> str:
    """An error's English text in the command's language, matched against error messages only."""
    return translate(text, among=MESSAGES, nested=_nested)


def _nested(placeholder: str) -> bool:
    """A placeholder holding words of the code's own (translated too), not the user's."""
    return placeholder in ("error", "reason") or placeholder.endswith("_words")
