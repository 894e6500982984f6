"""The error messages users meet most, marked for the catalogue as the code words them (each
value a ``{placeholder}``): :func:`alignment_engine.i18n.translate` matches an English error
against them when the CLI prints it in another language (see :mod:`.error_messages`)."""

from __future__ import annotations

__all__ = ["MESSAGES"]


def _(message: str) -> str:
    """Marks a message for the catalogue (Babel extracts ``_``); translated when printed."""
    return message


# The messages users meet most, as the code words them (values as {placeholders}); the
# catalogue translates each, and a test holds every one to a message the code really makes.

MESSAGES = (
    # the frame of a problem (Problem.render)
    _("row {row}"),
    _("column '{key}'"),
    _(" ({suggestion})"),
    # files
    _("no such file"),
    _("is a folder, expected a file"),
    _("is not a regular file (a device, pipe or socket)"),
    _("save the data to a file and give its path"),
    _("save the file as UTF-8"),
    _("file is empty"),
    _("start with 'kind:' and 'id:'"),
    _("file has no YAML content"),
    _("not valid YAML: {problem}"),
    _("file holds several YAML documents ('---'); put one document in each file"),
    _("a key must be a plain value, not a list or mapping"),
    _("merge keys ('<<') are not supported"),
    _("repeat the keys you need"),
    _("duplicate key '{key}' (first at line {line})"),
    _("remove one of them"),
    _("write the values out instead of nesting aliases"),
    _("missing 'kind:'"),
    _("add one of: kind: {kinds}"),
    _("unknown kind {kind}"),
    _("expected a {expected} file, found kind '{kind}'"),
    # keys and values
    _("unknown key '{key}'"),
    _("did you mean '{choice}'?"),
    _("expected one of: {choices}"),
    _("missing required key '{key}'"),
    _("{given} is not allowed here; expected {expected}"),
    _("{value} is not an id"),
    _("ids have no spaces, brackets or control characters"),
    _("... and {count} more problems"),
    _("expected a number or a percentage like '40%', got {value}"),
    _("expected a finite number, got {value}"),
    _("Input should be a valid number, unable to parse string as a number"),
    _("Input should be a valid integer, unable to parse string as an integer"),
    _("Input should be a valid integer, got a number with a fractional part"),
    _("Input should be a valid boolean, unable to interpret input"),
    _("Input should be a valid string"),
    _("Input should be a valid list"),
    _("Input should be a valid dictionary"),
    _("Input should be greater than or equal to {limit}"),
    _("Input should be greater than {limit}"),
    _("Input should be less than or equal to {limit}"),
    _("Input should be less than {limit}"),
    _("String should have at least {count} character"),
    _("String should have at least {count} characters"),
    # tables
    _("this file is separated by ';', not ',' (header {header})"),
    _("cannot read as a CSV table: {problem}"),
    _("row {line} has {saw} fields where the header names {expected} columns"),
    _("unsupported table format '{suffix}'"),
    _("use .csv, .parquet or .xlsx"),
    _("unknown column '{column}' in {table}"),
    _("missing column '{column}' ({table} need {columns})"),
    _("{table} file has no rows"),
    _("{table} have no rows"),
)
