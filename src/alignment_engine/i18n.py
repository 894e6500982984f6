"""The language of the report and of the CLI's human messages: English, or Chinese (zh-CN).

Messages are written in English in the code, marked with :func:`gettext` (``_``), and
translated in a standard gettext catalogue, ``locale/zh_CN/LC_MESSAGES/*.po``, read with Babel
(``pybabel extract -k _ -o messages.pot src/alignment_engine`` lists every marked message; a test
holds the catalogue to it). The catalogue is kept in one file per area (``messages.po`` for
errors and the core's words, ``cli.po`` for the commands' lines, ``help.po`` for ``--help``,
``reports.po`` for the pages), read together as one: a message is in one file only. The language is a context: ``with using("zh-CN"):``
around rendering a report or printing a command's tables; ``--lang`` on the CLI, else
``$ALIGNMENT_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``). Ids, numbers and
what the user wrote (names in plans) are never translated; JSON results stay in English.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from alignment_engine.errors import InputError

__all__ = [
    "LANGUAGES",
    "current",
    "from_environment",
    "gettext",
    "normalise",
    "translate",
    "untranslated",
    "using",
]

LANGUAGES = {"en": "English", "zh-CN": "简体中文"}
_CATALOGUES = {"zh-CN": Path(__file__).parent / "locale" / "zh_CN" / "LC_MESSAGES"}
_LANGUAGE: ContextVar[str] = ContextVar("alignment_engine_language", default="en")
_UNTRANSLATED: dict[str, set[str]] = {}  # per language, messages asked for and not found


def normalise(text: str) -> str:
    """``zh``, ``zh_CN``, ``zh-cn``, ``zh_CN.UTF-8`` -> ``zh-CN``; ``en``, ``en_US``, ``C``,
    ``POSIX`` -> ``en``; anything else is refused, naming the languages there are."""
    cleaned = text.strip().split(".")[0].split("@")[0].replace("_", "-").lower()
    if cleaned in ("", "c", "posix") or cleaned == "en" or cleaned.startswith("en-"):
        return "en"
    if cleaned in ("zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg"):
        return "zh-CN"
    raise InputError(
        f"no messages in {text!r}",
        key="--lang",
        suggestion="languages: " + ", ".join(f"{k} ({v})" for k, v in LANGUAGES.items()),
    )


def from_environment(environ: Mapping[str, str]) -> str:
    """The language the environment asks for: ``ALIGNMENT_LANG``, else the locale; a locale
    with no messages of its own (``fr_FR``) falls back to English."""
    chosen = environ.get("ALIGNMENT_LANG")
    if chosen:
        return normalise(chosen)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            try:
                return normalise(value)
            except InputError:
                return "en"
    return "en"


@functools.cache
def _catalogue(language: str) -> dict[str, str]:
    folder = _CATALOGUES.get(language)
    if folder is None:
        return {}
    from babel.messages.pofile import read_po

    translations: dict[str, str] = {}
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as stream:
            catalogue = read_po(stream, locale=language.replace("-", "_"))
        translations.update(
            (str(message.id), str(message.string))
            for message in catalogue
            if message.id and message.string and not message.fuzzy
        )
    return translations


def current() -> str:
    return _LANGUAGE.get()


def gettext(message: str) -> str:
    """``message`` in the current language (itself where the catalogue has no translation)."""
    language = _LANGUAGE.get()
    if language == "en" or not message:
        return message
    found = _catalogue(language).get(message)
    if found is None:
        _UNTRANSLATED.setdefault(language, set()).add(message)
        return message
    return found


def translate(
    text: str,
    among: tuple[str, ...] | None = None,
    nested: Callable[[str], bool] | None = None,
) -> str:
    """Text made elsewhere in English (an error's message, built with its values filled in)
    in the current language: the catalogue's message it is, or the message with placeholders
    (``unknown key '{key}'``) it matches, the values carried over; itself when none fits.

    Errors are made in English wherever they arise (the service answers in English, and the
    pure core knows no language); the CLI translates them when it prints them. ``among``
    limits the patterns to those messages (errors are matched against error messages only).
    The values are never translated, except those of the placeholders ``nested`` names: they
    hold text of the same kind (another error's message in ``cannot round the payouts:
    {error}``), translated in turn.
    """
    language = _LANGUAGE.get()
    if language == "en" or not text:
        return text
    return _translated(text, language, among, nested)[1]


def _translated(
    text: str,
    language: str,
    among: tuple[str, ...] | None,
    nested: Callable[[str], bool] | None,
) -> tuple[int, str]:
    """``text`` translated, and how many of its characters the message(s) it was matched to
    spell out. Without ``nested`` the first match wins (the most literal text first); with it,
    the match that spells out most, its nested values' messages counted too: "{reason}: the
    actuals hold {periods}" with its reason translated beats a message that takes the whole
    text as its last value."""
    found = _catalogue(language).get(text)
    if found is not None:
        return len(text), found
    best = (0, text)
    for literal, pieces, pattern, translation in _patterns(language, among):
        if best[0] >= (literal if nested is None else len(text)):
            break  # nothing further can spell out more
        if not all(piece in text for piece in pieces):
            continue  # cheap test first: a message of 1,000 characters meets 300 patterns
        matched = pattern.fullmatch(text)
        if matched is None:
            continue
        values = matched.groupdict()  # what the user wrote (ids, keys): never translated
        spelled = literal
        if nested is not None:
            for name, value in values.items():
                if nested(name):
                    inner, values[name] = _translated(value, language, among, nested)
                    spelled += inner
        try:
            made = translation.format(**values)
        except (KeyError, IndexError, ValueError):  # pragma: no cover - a bad translation
            continue
        if spelled > best[0]:
            best = (spelled, made)
    return best


_FIELD = re.compile(r"\{\{|\}\}|\{(\w+)\}")


def _fields(message: str) -> list[str] | None:
    """A message's literal texts and placeholder names, alternating (``'a {x} b'`` -> ``['a ',
    'x', ' b']``, ``{{`` read as ``{``); None when it has no plain placeholders, or one with a
    format spec (``{x:.2f}``), which the text it made cannot be matched back to."""
    parts: list[str] = []
    literal, position = "", 0
    for found in _FIELD.finditer(message):
        between = message[position : found.start()]
        if "{" in between or "}" in between:
            return None
        literal += between
        if found.group(1) is None:
            literal += found.group()[0]
        else:
            parts += [literal, found.group(1)]
            literal = ""
        position = found.end()
    rest = message[position:]
    if "{" in rest or "}" in rest:
        return None
    parts.append(literal + rest)
    return parts if len(parts) > 1 else None


@functools.cache
def _patterns(
    language: str, among: tuple[str, ...] | None
) -> list[tuple[int, tuple[str, ...], re.Pattern[str], str]]:
    """The catalogue's messages with plain ``{name}`` placeholders as patterns, the most
    literal text first (``unknown column '{column}' in {table}`` before ``{what} {value}``)."""
    made: list[tuple[int, tuple[str, ...], re.Pattern[str], str]] = []
    catalogue = _catalogue(language)
    for message, translation in catalogue.items():
        if among is not None and message not in among:
            continue
        parts = _fields(message)
        if parts is None:
            continue  # no placeholders, or one with a format spec: not matched back
        literal = "".join(parts[0::2])
        if not literal.strip():
            continue  # "{what} {value}" would match anything
        seen: set[str] = set()
        regex = []
        for index, part in enumerate(parts):
            if index % 2 == 0:
                regex.append(re.escape(part))
            elif part in seen:
                regex.append(f"(?P={part})")
            else:
                seen.add(part)
                regex.append(f"(?P<{part}>.+?)")
        pieces = tuple(p for p in parts[0::2] if p)
        made.append((len(literal), pieces, re.compile("".join(regex), re.DOTALL), translation))
    made.sort(key=lambda item: -item[0])
    return made


def untranslated(language: str) -> set[str]:
    """The messages asked for in ``language`` since the process started that its catalogue
    has no translation of (the tests render every page in every language and expect none)."""
    return set(_UNTRANSLATED.get(language, set()))


_ = gettext


@contextmanager
def using(language: str) -> Iterator[None]:
    token = _LANGUAGE.set(normalise(language))
    try:
        yield
    finally:
        _LANGUAGE.reset(token)
