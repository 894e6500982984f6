"""Pay taken out of a result for callers who may not see it (``Caller.sees_pay``).

A scenario run made by HR or an admin with employees carries every payout; a planner may read
scenario runs (their scores, findings and allocations) but not pay. What counts as pay: each
employee's record (``employees`` lists of people, ``payouts`` lists), and the money amounts
``payout``, ``pool``, ``target_bonus``, ``salary``, ``paid``, ``ledger``, ``adjustment`` and the
``totals`` of payouts, and the
keys derived from them (``payout_before``, ``employees_after``, ``pool_text``), wherever they
appear. Scores and payout factors stay: they are the plan's results, not anyone's pay.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["PAY_KEYS", "is_pay", "without_pay"]

PAY_KEYS = frozenset(
    {
        "employees",
        "payouts",
        "payout",
        "pool",
        "target_bonus",
        "salary",
        "paid",
        "ledger",
        "adjustment",
        "adjustments",
        "totals",
    }
)
"""Keys removed wherever they appear in a result."""

REDACTED = {"pay": "removed: this token's role may not see pay (docs/service.md)"}


def is_pay(key: str) -> bool:
    """A pay key, or one derived from it (``payout_before``, ``employees_after``,
    ``pool_text``); payout factors are not pay."""
    if key in PAY_KEYS:
        return True
    return key.startswith(("payout_", "employees_", "pool_")) and not key.startswith(
        "payout_factor"
    )


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not is_pay(k)}
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def without_pay(result_json: str) -> str:
    """The result with every pay key removed and a ``redacted`` note at the top (compact);
    a result without pay is returned unchanged, byte for byte."""
    document = json.loads(result_json)
    stripped = _strip(document)
    if stripped == document:
        return result_json
    if isinstance(stripped, dict):
        stripped["redacted"] = REDACTED
    return json.dumps(stripped, ensure_ascii=False, separators=(",", ":"))
