"""``--help`` and Click's own messages in the language of the command.

The help texts are written in English where the commands are (docstrings, ``help=``) and
translated when a help page is rendered, looked up by their English text in the catalogue
(``locale/zh_CN/LC_MESSAGES/help.po``). The page is rendered from a translated copy of the
command (its help, its options' help, its subcommands' short help), by the command's own
formatting code, so Click still rewraps paragraphs (``\\b`` blocks kept as written), adds
``[default: ...]`` and ``[required]`` and lays out the columns; the command itself is never
changed. Chinese is wrapped by display width (a Chinese character takes two columns), with
no line starting on closing punctuation.

Click's own words ("Usage:", "Options", "Error: Missing option '--plan'.", "Try ... for
help.") go through the catalogue too: see :func:`_route_clicks_words`.

The language has to be chosen before Click parses anything (``--help`` is handled while the
arguments are parsed, before the group's callback runs, and a usage error is printed after
the command's contexts are closed), so the main group reads ``--lang`` (else
``$ALIGNMENT_LANG``, else the locale) from its arguments first: :func:`chosen_language`.
"""

from __future__ import annotations

import copy
import gettext as stdlib_gettext
import importlib
import inspect
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import click
from click.formatting import HelpFormatter

from alignment_engine import i18n
from alignment_engine.errors import InputError

__all__ = ["HelpContext", "chosen_language", "help_texts", "install", "key"]

# The Click modules whose messages people see: usage errors, the help page's words, the
# types' complaints. (click.decorators is left alone: it translates "Show this message and
# exit." once, when the help option is made, and the option is kept; that help text is
# translated at rendering like every option's.)
_CLICK_MODULES = (
    "click.core",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
)


def _click_gettext(message: str) -> str:
    return i18n.gettext(message)


def _click_ngettext(singular: str, plural: str, count: int) -> str:
    # Chinese has one form: both English forms are plain messages in the catalogue (the
    # catalogue reader takes no plural entries), and English keeps Click's choice.
    return i18n.gettext(singular if count == 1 else plural)


def _route_clicks_words() -> None:
    """Click marks its messages for translation with the standard library's gettext, bound
    at import as each module's ``_`` and ``ngettext``: that one reads the process-wide
    textdomain, the environment and compiled ``.mo`` files, not the language of this
    command (a context variable chosen by ``--lang``). Rebinding those two names in Click's
    modules to functions reading our catalogue is the least that works: no compiled files,
    no process-wide locale, and English is returned unchanged (Click ships no translations,
    so the standard library returned it unchanged too)."""
    for name in _CLICK_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "_", None) in (stdlib_gettext.gettext, _click_gettext):
            module._ = _click_gettext  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) in (stdlib_gettext.ngettext, _click_ngettext):
            module.ngettext = _click_ngettext  # type: ignore[attr-defined]


def chosen_language(arguments: Sequence[str], environ: Mapping[str, str]) -> str:
    """The language the command line asks for, read before Click parses it: the main
    group's ``--lang`` (before the command's name, where Click reads it), else the
    environment's. A language there are no messages in is English here; the group's
    callback refuses it as before."""
    words = iter(arguments)
    for word in words:
        value: str | None = None
        if word == "--lang":
            value = next(words, None)
        elif word.startswith("--lang="):
            value = word.partition("=")[2]
        elif word.startswith("-") and word != "--":
            continue  # the group's flags (-h, --help, --version)
        else:
            break  # the command's name: what follows is the command's
        if value is not None:
            try:
                return i18n.normalise(value)
            except InputError:
                return "en"
    try:
        return i18n.from_environment(environ)
    except InputError:
        return "en"


class MissingInLanguage(click.MissingParameter):
    """Click's "Missing option '--plan'." with the full stop of the command's language: Click
    writes the ASCII one itself, outside its translated words."""

    @classmethod
    def of(cls, error: click.MissingParameter) -> MissingInLanguage:
        return cls(
            message=error.message or None,
            ctx=error.ctx,
            param=error.param,
            param_hint=error.param_hint,
            param_type=error.param_type,
        )

    def format_message(self) -> str:
        text = super().format_message()
        if i18n.current() != "zh-CN":
            return text
        head, stop, rest = text.partition(".")  # Click's stop after the option's name
        return f"{head}。{rest.lstrip()}" if stop else text


def language_first(arguments: Sequence[str]) -> list[str]:
    """The command line with a ``--lang`` given after the command's name (``score --help
    --lang zh-CN``) moved before it, where the main group reads it: no command has a
    ``--lang`` of its own, and people type it where they type the rest."""
    words = list(arguments)
    end = words.index("--") if "--" in words else len(words)
    moved: list[str] = []
    position = 0
    while position < end:
        word = words[position]
        if word == "--lang" and position + 1 < end:
            moved += words[position : position + 2]
            del words[position : position + 2]
            end -= 2
        elif word.startswith("--lang="):
            moved.append(words.pop(position))
            end -= 1
        else:
            position += 1
    return [*moved, *words]


def key(text: str) -> str:
    """The catalogue's message for a command's help text: as Click shows it (docstrings
    dedented, cut at a form feed)."""
    return inspect.cleandoc(text).partition("\f")[0]


def help_texts(command: click.Command, context: click.Context | None = None) -> Iterator[str]:
    """Every help text of ``command`` and of the commands below it, as the catalogue holds
    them: each command's help and short help and every parameter's help (the help option's
    too)."""
    # contexts as Click makes them (the help option is made once, with the names they give)
    own = context if context is not None else click.Context(command, **command.context_settings)
    for text in (command.help, command.short_help, command.epilog):
        if text:
            yield key(text)
    for param in command.get_params(own):
        text = getattr(param, "help", None)
        if text:
            yield text
    if isinstance(command, click.Group):
        for name in command.list_commands(own):
            sub = command.get_command(own, name)
            if sub is not None:
                made = click.Context(sub, parent=own, info_name=name, **sub.context_settings)
                yield from help_texts(sub, made)


# -- rendering -----------------------------------------------------------------------------


def _wide(text: str) -> bool:
    return any(unicodedata.east_asian_width(c) in "WF" for c in text)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _translated(text: str | None) -> str | None:
    return i18n.gettext(key(text)) if text else text


def _short_help(help_text: str, limit: int) -> str:
    """The Chinese first sentence of a help text for the commands' list, cut to ``limit``
    columns (Click's own shortening counts characters and looks for ". ")."""
    paragraph = help_text.partition("\n\n")[0].strip()
    if paragraph.startswith("\b"):
        paragraph = paragraph[1:].strip()
    paragraph = " ".join(paragraph.split())
    end = re.search(r"。|\. ", paragraph)
    sentence = paragraph[: end.start() + 1] if end else paragraph
    if _width(sentence) <= limit:
        return sentence
    kept = ""
    for char in sentence:
        if _width(kept + char) > limit - 1:
            break
        kept += char
    return kept.rstrip("，；：、 ") + "…"


class HelpContext(click.Context):
    """The context of every command of ``alignment-engine``: renders the help page in the
    command's language, Chinese wrapped by display width."""

    def get_help(self) -> str:
        if i18n.current() == "en":
            return super().get_help()
        return _in_language(self.command, self).get_help(self)


def _param_in_language(param: click.Parameter) -> click.Parameter:
    text = getattr(param, "help", None)
    if not text:
        return param
    twin = copy.copy(param)
    twin.help = i18n.gettext(text)
    return twin


def _in_language(command: click.Command, context: click.Context) -> click.Command:
    """A copy of ``command`` with its texts in the current language, for rendering: its own
    formatting code then lays out the translated texts."""
    twin = copy.copy(command)
    twin.help = _translated(command.help)
    twin.short_help = _translated(command.short_help)
    twin.epilog = _translated(command.epilog)
    params = [_param_in_language(param) for param in command.params]
    help_option = command.get_help_option(context)
    if help_option is not None:  # last, where Click puts it
        params.append(_param_in_language(help_option))
        twin.add_help_option = False
    twin.params = params
    if isinstance(command, click.Group) and isinstance(twin, click.Group):
        names = list(command.list_commands(context))
        width = context.make_formatter().width
        limit = width - 6 - max((len(name) for name in names), default=0)
        commands: dict[str, click.Command] = {}
        for name in names:
            sub = command.get_command(context, name)
            if sub is None:
                continue
            listed = copy.copy(sub)
            if sub.short_help:
                listed.short_help = _translated(sub.short_help)
            elif sub.help:
                listed.short_help = _short_help(i18n.gettext(key(sub.help)), limit)
            commands[name] = listed
        twin.commands = commands
    return twin


# -- wrapping by display width -----------------------------------------------------------

_NO_LINE_START = set("，。；：、）》」』！？,.;:)]!?%")
_NO_LINE_END = set("（《「『(")
_CHUNK = re.compile(r"\s+|[^\s\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+|.", re.DOTALL)


def _chunks(text: str) -> list[str]:
    """Words, spaces and single Chinese characters; closing punctuation stays with what it
    closes, opening punctuation with what it opens."""
    pieces: list[str] = []
    for found in _CHUNK.finditer(text):
        piece = found.group()
        if (
            pieces
            and not piece.isspace()
            and not pieces[-1].isspace()
            and (piece[0] in _NO_LINE_START or pieces[-1][-1] in _NO_LINE_END)
        ):
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return pieces


def _fill(text: str, width: int, first: str, rest: str) -> list[str]:
    lines: list[str] = []
    line, indent = "", first
    for piece in _chunks(" ".join(text.split())):
        if piece.isspace():
            if line:
                line += " "
            continue
        room = width - _width(indent)
        if line and _width(line + piece) > room:
            lines.append(indent + line.rstrip())
            line, indent = "", rest
            room = width - _width(indent)
        while _width(piece) > room:  # a word longer than the line
            cut = 1
            while cut < len(piece) and _width(piece[: cut + 1]) <= room:
                cut += 1
            lines.append(indent + piece[:cut])
            piece, indent = piece[cut:], rest
            room = width - _width(indent)
        line += piece
    if line or not lines:
        lines.append(indent + line.rstrip())
    return lines


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> str:
    """Click's ``wrap_text(preserve_paragraphs=True)`` by display width: paragraphs are
    rewrapped, kept indented as written, and a paragraph after a ``\\b`` line kept as it is."""
    paragraphs: list[tuple[int, bool, list[str]]] = []
    block: list[str] = []
    indent = 0

    def flush() -> None:
        if block:
            raw = block[0].strip() == "\b"
            paragraphs.append((indent, raw, block[1:] if raw else list(block)))
            block.clear()

    for line in text.expandtabs().splitlines():
        if not line:
            flush()
            continue
        if not block:
            indent = len(line) - len(line.lstrip())
        block.append(line.lstrip() if not block else line)
    flush()
    made = []
    for extra, raw, lines in paragraphs:
        pad = " " * extra
        if raw:
            made.append(
                "\n".join(
                    (rest if made_one else first) + pad + line
                    for made_one, line in enumerate(lines)
                )
            )
        else:
            made.append("\n".join(_fill(" ".join(lines), width, first + pad, rest + pad)))
    return "\n\n".join(made)


class WideFormatter(HelpFormatter):
    """Click's help formatter, wrapping Chinese by the columns it takes; text without wide
    characters is left to Click as it is."""

    def write_heading(self, heading: str) -> None:
        if not _wide(heading):
            super().write_heading(heading)
            return
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            usage = _click_gettext("Usage:")
            # A full-width colon carries its own space ("用法：alignment-engine ...").
            prefix = usage if usage.endswith("：") else usage + " "
        if not _wide(prefix) or not args:
            super().write_usage(prog, args, prefix)
            return
        # "用法：" takes six columns, not three: the arguments' lines line up under it
        start = f"{prefix:>{self.current_indent}}{prog} "
        room = self.width - self.current_indent
        if room >= _width(start) + 20:
            lines = _fill(args, room, start, " " * _width(start))
        else:
            self.write(start.rstrip() + "\n")
            pad = " " * (max(self.current_indent, _width(prefix)) + 4)
            lines = _fill(args, room, pad, pad)
        self.write("\n".join(lines) + "\n")

    def write_text(self, text: str) -> None:
        if not _wide(text):
            super().write_text(text)
            return
        indent = " " * self.current_indent
        self.write(_wrap(text, self.width, indent, indent) + "\n")

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        rows = list(rows)
        if not any(_wide(second) for _first, second in rows):
            super().write_dl(rows, col_max, col_spacing)
            return
        first_col = min(max((_width(first) for first, _ in rows), default=0), col_max)
        first_col += col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if _width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - _width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = _wrap(second, max(self.width - first_col - 2, 10)).splitlines()
            self.write(f"{lines[0] if lines else ''}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n" if line else "\n")


HelpContext.formatter_class = WideFormatter


def _walk(command: click.Command) -> Iterator[click.Command]:
    yield command
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _walk(sub)


def install(group: click.Group) -> None:
    """Every command of ``group`` gets its help in the language of the command (its context
    class), and Click's own words come from the catalogue."""
    _route_clicks_words()
    for command in _walk(group):
        command.context_class = HelpContext


@contextmanager
def language_of(arguments: Sequence[str] | None) -> Iterator[None]:
    """The language of a whole command line (``None``: the process's arguments)."""
    import sys

    chosen = chosen_language(sys.argv[1:] if arguments is None else arguments, os.environ)
    with i18n.using(chosen):
        yield
