"""Names and ids durable_rules tells apart by a 32-bit FNV-1 hash only (defect 5 in
:mod:`alignment_engine.ruleset.durable.engine`): the C hash, the names the adapter reserves, and fact
ids generated collision-free."""

from __future__ import annotations

from typing import Final

from alignment_engine.ruleset.durable.limits import MAX_ALIASES_PER_RULE

# ---------------------------------------------------------------------------------------------
# Hashing as the C engine does it.


def fnv1_32(text: str) -> int:
    """durable's ``fnv1Hash32`` over the UTF-8 bytes of ``text``.

    The C code XORs a signed ``char``, so bytes from 0x80 up enter sign-extended.
    """
    value = 0x811C9DC5
    for byte in text.encode("utf-8"):
        value ^= byte | 0xFFFFFF00 if byte >= 0x80 else byte
        value = (value * 16777619) & 0xFFFFFFFF
    return value


#: A field the adapter adds to every fact it asserts, and tests first in every condition, so no
#: condition can match the per-state fact durable keeps (``{"sid", "id", "$s"}``).
MARK: Final = "$f"
SENTINEL_RULE: Final = "$open"
RESERVED_HASHES: Final = frozenset(fnv1_32(name) for name in ("id", "sid", MARK))
#: Keys durable's parser recognises by hash; generated names must not hash like them.
_KEYWORD_HASHES: Final = frozenset(
    fnv1_32(word)
    for word in [
        "$lt",
        "$lte",
        "$gt",
        "$gte",
        "$eq",
        "$neq",
        "$mt",
        "$imt",
        "$iall",
        "$iany",
        "$ex",
        "$nex",
        "$or",
        "$and",
        "$m",
        "$add",
        "$sub",
        "$mul",
        "$div",
        "$l",
        "$r",
        "$forward",
        "$s",
        "$i",
        "all",
        "any",
        "pri",
        "count",
        "cap",
        "dist",
        "name",
        "id",
        "sid",
    ]
)


def _alias_names() -> tuple[str, ...]:
    names = tuple(f"f{position}" for position in range(MAX_ALIASES_PER_RULE))
    hashes = {fnv1_32(name) for name in names}
    if len(hashes) != len(names) or hashes & (_KEYWORD_HASHES | RESERVED_HASHES):
        raise RuntimeError("internal alias names collide under FNV-1")  # pragma: no cover
    return names


#: Internal alias names by position in a rule's ``all`` list; user names never reach C.
ALIASES: Final = _alias_names()


# ---------------------------------------------------------------------------------------------
# Fact ids (used on the engine thread only).


class IdTable:
    """Fact ids ``0, 1, 2, ...`` whose 32-bit FNV-1 hashes all differ (defect 5); a colliding
    candidate gets a suffix. Shared by all evaluations; it grows to the largest one seen."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.hashes: set[int] = set()
        self.position: dict[str, int] = {}

    def ensure(self, count: int, avoid: set[int]) -> list[str]:
        while len(self.ids) < count:
            position = len(self.ids)
            candidate = str(position)
            attempt = 0
            while (value := fnv1_32(candidate)) in self.hashes or value in avoid:
                attempt += 1
                candidate = f"{position}-{attempt}"
            self.ids.append(candidate)
            self.hashes.add(value)
            self.position[candidate] = position
        return self.ids


id_table = IdTable()
