"""The phrases the scoring core writes into explanations (where a KPI's result came from, the
part of its curve it fell on, how the pool was shared), in the reader's language.

The core writes them in English, as it writes everything (JSON results stay English); the
CLI's ``--explain`` and the payee statements show them through :func:`phrase`, which matches
them against these messages (values as ``{placeholders}``, kept as they are)."""

from __future__ import annotations

import re

from alignment_engine.i18n import current, translate

__all__ = [
    "MATRIX_PHRASES",
    "PAGE_TITLES",
    "PHRASES",
    "TABLE_PHRASES",
    "matrix_position",
    "page_title",
    "phrase",
    "summary_text",
    "table_condition",
]


def _(message: str) -> str:
    """Marks a message for the catalogue (Babel extracts ``_``); translated when shown."""
    return message


PHRASES = (
    # where an actual came from (scoring.actuals)
    _("reported for {period}"),
    _("sum of the {count} months of {period}"),
    _("mean of the {count} months of {period}"),
    _("last of the {count} months of {period}"),
    _("min of the {count} months of {period}"),
    _("max of the {count} months of {period}"),
    _("sum of the {count} quarters of {period}"),
    _("mean of the {count} quarters of {period}"),
    _("last of the {count} quarters of {period}"),
    _("min of the {count} quarters of {period}"),
    _("max of the {count} quarters of {period}"),
    # the part of a payout curve a result fell on (scoring.payout_curves.segment_label)
    _("no result"),
    _("between threshold and target"),
    _("between target and maximum"),
    _("between threshold and maximum"),
    _("short of threshold"),
    _("short of target"),
    _("at or beyond maximum"),
    _("at or beyond target"),
    _("between {low} and {high}"),
    _("short of {point}"),
    _("at or beyond {point}"),
    # the points of a curve those name (scoring.catalogue: a KPI's levels, or an attainment)
    _("threshold"),
    _("target"),
    _("maximum"),
    _("attainment {attainment}"),
    # how a scaled pool was shared out (scoring.explanation)
    _("largest remainder to the pool"),
    _("rounded on its own"),
    # how the shared component is scored (scoring.explanation)
    _("mean of the shared goals' payout factors"),
)

# Where a combination of attainments fell on a payout matrix, one axis each, joined by ", "
# (scoring.payout_matrix.describe_position): the axis names and numbers are kept.
MATRIX_PHRASES = (
    _("{axis} no result"),
    _("{axis} {value} short of {bound}"),
    _("{axis} {value} at or beyond {bound}"),
    _("{axis} {value} at {bound} (step)"),
    _("{axis} {value} between {below} and {above}"),
)

# The rows of a decision table that matched (scoring.decision_tables): the hit policy and its
# aggregation (``unique``, ``collect sum``) are policy keys, kept.
TABLE_PHRASES = (
    _("row {rows} ({how})"),
    _("rows {rows} ({how})"),
    _("no row matched: default ({how})"),
    _("no row matched ({how})"),
)

# The titles the commands give the pages they write (cli.scenario, cli.scorecard), made in
# English there: the plan's and scenario's names and ids are kept.
PAGE_TITLES = (
    _("Scenario {scenario}: {variant}"),
    _("{plan}: scorecard {period}"),
)

# The words of an explanation's one-line summary (``9500 x factor 0.75 x proration 1 =
# 7125.000000; rounded half_up -> 7125.00 CNY``), each with the spaces around it so that an
# id holding the word is left alone.
_SUMMARY_WORDS = {
    "zh-CN": (
        (" x factor ", " × 系数 "),
        (" x proration ", " × 折算比例 "),
        ("; x pool scale ", "；× 奖金池比例 "),
        (", largest remainder", "，最大余数法分配"),
        ("; rounded ", "；舍入方式 "),
        ("; paid now ", "；本次发放 "),
        ("; paid in ", "；以币种支付 "),
        (" capped at ", " 封顶为 "),
        (" raised to ", " 提高至 "),
    )
}
# The ledger's words in a summary: ``(deferred 250.00, released 120.00)``.
_LEDGER = re.compile(
    r"(?:(?<=[(（])|(?<=, )|(?<=，))(advanced earlier|deferred|released|recovered)(?= )"
)
_LEDGER_WORDS = {
    "zh-CN": {
        "advanced earlier": "此前预付",
        "deferred": "递延",
        "released": "释放",
        "recovered": "追回",
    }
}


def matrix_position(text: str) -> str:
    """Where a KPI fell on a payout matrix (``revenue 0.914 between 0.9 and 1, margin 0.9 at
    0.8 (step)``) in the current language, axis by axis."""
    if current() == "en" or not text:
        return text
    return "，".join(translate(part, among=MATRIX_PHRASES) for part in text.split(", "))


def table_condition(text: str) -> str:
    """The rows of a decision table that matched (``row 3 (collect sum)``) in the current
    language; any other gate's condition (``kpi:x attainment < 0.85``) as it is."""
    return translate(text, among=TABLE_PHRASES)


def page_title(text: str) -> str:
    """A page title a command made (``Scenario acme: base``) in the current language; any
    other title (one the user gave) as it is."""
    return translate(text, among=PAGE_TITLES)


def phrase(text: str) -> str:
    """A phrase of the scoring core in the current language (itself when it is none of these);
    the curve points a segment names (``between attainment 0.9 and attainment 1``) too."""
    return translate(text, among=PHRASES, nested=_POINTS.__contains__)


_POINTS = frozenset({"low", "high", "point"})  # the placeholders holding a curve point's name


# Pay in another currency: ``; paid in USD at 0.138: 1232.54 USD``.
_PAID_IN = re.compile(r"; paid in (\S+) at (\S+): ")
_PAID_IN_WORDS = {"zh-CN": r"；以 \1 支付，汇率 \2："}
# The ledger's amounts in brackets after what is paid now: ``(deferred 250.00, released ...)``.
_LEDGER_BRACKETS = re.compile(r" \(((?:advanced earlier|deferred|released|recovered) [^()]*)\)")


def summary_text(text: str) -> str:
    """An explanation's summary line with its words in the current language; numbers, ids and
    rounding modes (policy keys) stay as they are."""
    language = current()
    paid_in = _PAID_IN_WORDS.get(language)
    if paid_in is not None:
        text = _PAID_IN.sub(paid_in, text)
    for english, translated in _SUMMARY_WORDS.get(language, ()):
        text = text.replace(english, translated)
    words = _LEDGER_WORDS.get(language)
    if words is not None:
        text = _LEDGER_BRACKETS.sub(
            lambda found: "（" + found.group(1).replace(", ", "，") + "）", text
        )
        text = _LEDGER.sub(lambda found: words[found.group(1)], text)
    return text
