"""The words people read for the values of results (severities, statuses, kinds), in the
command's language."""

from __future__ import annotations

from alignment_engine.i18n import _

__all__ = ["value_word"]


def value_word(value: str) -> str:
    """A value of the results shown to people (a severity, a scorecard status or perspective,
    a rule's kind, an optimiser or bound status, a curve shape) in the command's language; the value itself when it has no word.
    JSON keeps the values; the words are for the tables."""
    words = {
        "critical": _("critical"),
        "high": _("high"),
        "medium": _("medium"),
        "low": _("low"),
        "green": _("green"),
        "amber": _("amber"),
        "red": _("red"),
        "no-data": _("no-data"),
        "not-due": _("not-due"),
        "conflict": _("conflict"),
        "alignment": _("alignment"),
        "derive": _("derive"),
        "optimal": _("optimal"),
        "local": _("local"),
        "unchanged": _("unchanged"),
        "infeasible": _("infeasible"),
        "at_min": _("at_min"),
        "at_max": _("at_max"),
        "free": _("free"),
        "fixed": _("fixed"),
        "overall": _("overall"),
        "financial": _("Financial"),
        "customer": _("Customer"),
        "internal_process": _("Internal process"),
        "learning_growth": _("Learning growth"),
        "linear": _("linear"),
        "log": _("log"),
        "power": _("power"),
        "saturating": _("saturating"),
    }
    return words.get(value, value)
