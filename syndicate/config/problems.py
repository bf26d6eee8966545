"""Config problems in words an editor of the file understands.

:func:`problems_from_validation` turns a pydantic ``ValidationError`` into
:class:`~syndicate.errors.ConfigProblem` s: every error type that a config model can raise gets a
plain message (``review_required: expected true or false, got 'yes'``), never pydantic's own
phrases, and an unknown key gets the nearest known one (``timzone: unknown field; did you mean
'timezone'?``). :func:`timezone_problem` does the same for IANA time zones, and
:func:`route_warnings` finds what is valid but probably not meant: a posting window that runs
overnight, a locale without a region.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable, Sequence
from datetime import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from ..base.hints import did_you_mean, shown
from ..base.inputs import Document, line_of
from ..errors import ConfigProblem

if TYPE_CHECKING:
    from ..model.config import Route

__all__ = [
    "HANDLED_TYPES",
    "plain_message",
    "problems_from_validation",
    "route_warnings",
    "sort_problems",
]

#: What each ``pattern=`` of our config models means, in words (third-party adapters' patterns fall
#: back to the pattern itself).
PATTERN_WORDS = {
    r"^[a-z0-9][a-z0-9._-]{0,63}$": "lowercase letters, digits, '.', '_' and '-' (up to 64, starting with a "
                                    "letter or digit)",
    r"^[a-z][a-z0-9_-]{0,31}$": "a lowercase name such as 'deepl' (letters, digits, '_' and '-')",
    r"^[^\s&#=?]+$": "one word without spaces and without '&', '#', '=' or '?'",
    r"^[A-Za-z0-9_]{1,15}$": "an X handle without '@': 1 to 15 letters, digits or '_'",
    r"^[^@\s]+@[^@\s]+$": "an e-mail address",
    r"^[a-z0-9]{2,32}$": "lowercase letters and digits (2 to 32), such as 'westeurope'",
    r"^[0-9]{6}(?:\.[0-9]{2})?$": "a version such as '202401' (YYYYMM, optionally '.NN')",
    r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$": "words of letters, digits and '_' joined by dots, such as "
                                          "'syndicate.post'",
    r"^[A-Za-z0-9.-]+(@[A-Za-z0-9.-]+)?,\d{4}(-\d{2}){0,2}$": "a tag authority such as 'example.com,2026'",
    r"^[A-Za-z0-9_][A-Za-z0-9_:-]{0,254}$": "letters, digits, '_', ':' and '-' (up to 255)",
}

#: Every pydantic error type that gets its own message here; any other falls back to pydantic's
#: sentence, rephrased (a third-party adapter's options may raise one).
HANDLED_TYPES = frozenset({
    "missing", "extra_forbidden", "bool_type", "bool_parsing", "string_type", "string_sub_type", "int_type",
    "int_parsing", "int_from_float", "float_type", "float_parsing", "finite_number", "list_type", "tuple_type",
    "set_type", "dict_type", "model_type", "model_attributes_type", "mapping_type", "literal_error",
    "string_pattern_mismatch", "string_too_short", "string_too_long", "too_short", "too_long", "greater_than",
    "greater_than_equal", "less_than", "less_than_equal", "value_error", "assertion_error",
})

_GOT_PY_TYPE = re.compile(r", got (NoneType|bool|int|float|str|list|dict)$")


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 10_000 else str(value)


def _arms(tp: Any) -> list[Any]:
    """``tp`` without ``Annotated`` and ``Optional``: the types it may be."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _arms(typing.get_args(tp)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [a for arg in typing.get_args(tp) for a in _arms(arg) if a is not type(None)]
    return [tp]


def _step(tp: Any, part: str | int) -> Any:
    for arm in _arms(tp):
        origin = typing.get_origin(arm)
        if isinstance(arm, type) and issubclass(arm, BaseModel) and isinstance(part, str):
            field = arm.model_fields.get(part)
            if field is not None:
                return field.annotation
        elif origin in (list, tuple, Sequence) and isinstance(part, int):
            return typing.get_args(arm)[0]
        elif origin is dict and isinstance(part, str):
            return typing.get_args(arm)[1]
    return None


def type_at(model: type[BaseModel] | None, loc: Sequence[str | int]) -> Any:
    """The declared type at ``loc`` inside ``model``, or None when it cannot be told."""
    tp: Any = model
    for part in loc:
        if tp is None:
            return None
        tp = _step(tp, part)
    return tp


def _fields_at(model: type[BaseModel] | None, loc: Sequence[str | int]) -> list[str]:
    for arm in _arms(type_at(model, loc)) if loc else [model]:
        if isinstance(arm, type) and issubclass(arm, BaseModel):
            return list(arm.model_fields)
    return []


def _literal_choices(model: type[BaseModel] | None, loc: Sequence[str | int]) -> list[str]:
    for arm in _arms(type_at(model, loc)):
        if typing.get_origin(arm) is Literal:
            return [str(a) for a in typing.get_args(arm)]
    return []


# -- messages -------------------------------------------------------------------------------------


def plain_message(err: Any, model: type[BaseModel] | None = None) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) as a plain sentence.

    Args:
        err: the error dict: ``type``, ``loc``, ``msg``, ``input``, ``ctx``.
        model: the model that was validated, to name known fields and allowed values.
    """
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    loc = [p for p in err.get("loc", ()) if p != "[key]"]
    value = err.get("input")
    got = f"got {shown(value)}"
    unquote = " (write it without quotes)" if isinstance(value, str) and re.fullmatch(r"-?[0-9.]+", value) else ""
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        known = [f for f in _fields_at(model, loc[:-1]) if f != loc[-1]] if loc else []
        guess = did_you_mean(str(loc[-1]), known) if loc else None
        if guess:
            return f"unknown field; did you mean {guess!r}?"
        return f"unknown field; known fields: {', '.join(known)}" if known else "unknown field"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, {got}"
    if kind in ("string_type", "string_sub_type"):
        return f"expected text, {got}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, {got}{unquote}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"expected a number, {got}{unquote}"
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"expected a list such as [a, b], {got}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return f"expected a mapping of 'key: value' entries, {got}"
    if kind == "literal_error":
        choices = _literal_choices(model, loc) or re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        guess = did_you_mean(value, choices) if isinstance(value, str) else None
        text = f"must be one of {', '.join(repr(c) for c in choices)}; {got}" if choices else f"is not allowed: {got}"
        return text + (f"; did you mean {guess!r}?" if guess else "")
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        words = PATTERN_WORDS.get(pattern, f"text matching the pattern {pattern}")
        return f"must be {words}; {got}"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must be at least {least} characters long; {got}"
    if kind == "string_too_long":
        return f"must be at most {_number(ctx.get('max_length'))} characters long; got {len(str(value)):,}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} entries; got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"may have at most {ctx.get('max_length')} entries; got {ctx.get('actual_length')}"
    bounds = {"greater_than": ("more than", "gt"), "greater_than_equal": ("at least", "ge"),
              "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {_number(ctx.get(key))}; {got}"
    if kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error") or err.get("msg", "is not valid"))
        text = text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        # Our validators name a Python type when handed the wrong kind of value; say it in YAML terms.
        return _GOT_PY_TYPE.sub(lambda _m: f", {got}", text)
    # Anything else (a third-party adapter's own types): pydantic's sentence, rephrased.
    msg = str(err.get("msg", "is not valid")).replace("Input should be", "expected")
    return f"{msg[:1].lower()}{msg[1:]}; {got}"


def problems_from_validation(doc: Document, exc: ValidationError, prefix: tuple[str | int, ...] = (),
                             model: type[BaseModel] | None = None) -> list[ConfigProblem]:
    """Every error of ``exc`` as a problem at ``file:line: field``.

    Args:
        doc: the file that was read (for its name and the line of each value).
        exc: the validation error of ``model`` on (a part of) ``doc``.
        prefix: where in ``doc`` the validated part is (``("accounts", "x-na")``).
        model: the model validated; with it, unknown fields get the nearest known one.
    """
    errors = exc.errors()
    # A misspelled field is also a missing one: report the misspelling once, with the suggestion.
    guessed: set[tuple[str | int, ...]] = set()
    messages = []
    for err in errors:
        msg = plain_message(err, model)
        m = re.search(r"did you mean '([^']+)'", msg) if err.get("type") == "extra_forbidden" else None
        if m:
            guessed.add((*err["loc"][:-1], m.group(1)))
        messages.append(msg)
    out = []
    for err, msg in zip(errors, messages, strict=True):
        loc = tuple(err["loc"])
        if err.get("type") == "missing" and loc in guessed:
            continue
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
            msg = f"invalid key: {msg}"
        full = (*prefix, *loc)
        out.append(ConfigProblem(doc.source, line_of(doc, full), ".".join(str(p) for p in full), msg))
    return out


# -- warnings -------------------------------------------------------------------------------------


def _hhmm(t: time | None) -> str:
    return "24:00" if t is None else t.strftime("%H:%M")


def _minutes(t: time | None) -> int:
    return 24 * 60 if t is None else t.hour * 60 + t.minute


def route_warnings(route: Route, doc: Document) -> list[ConfigProblem]:
    """What is valid in a route but probably not meant: a window whose end is not after its start
    (it runs overnight), and a locale without a region (``ES`` is the language Spanish)."""
    from babel import Locale

    from ..base.locales import maximize

    out: list[ConfigProblem] = []

    def warn(loc: tuple[str | int, ...], message: str) -> None:
        out.append(ConfigProblem(doc.source, line_of(doc, loc), ".".join(str(p) for p in loc), message,
                                 severity="warning"))

    for i, w in enumerate(route.windows):
        if _minutes(w.end) <= _minutes(w.start):
            start, end = _hhmm(w.start), _hhmm(w.end)
            what = "is open 24 hours" if start == end else "runs overnight"
            warn(("windows", i), f"ends at {end}, not after it starts at {start}: it {what}, from {start} on "
                                 f"{', '.join(w.days)} until {end} the next day; if that is not meant, swap "
                                 "start and end")
    raw = doc.data.get("locales") if isinstance(doc.data, dict) else None
    for i, tag in enumerate(route.locales):
        if "-" in tag and len(tag.rsplit("-", 1)[-1]) != 4:
            continue  # has a region (a 4-letter last subtag is a script: zh-Hant)
        lang, _script, region = maximize(tag)
        written = raw[i] if isinstance(raw, list) and i < len(raw) and isinstance(raw[i], str) else tag
        name = Locale("en").languages.get(lang, lang)
        suggestion = f"{tag}-{region}" if region else None
        warn(("locales", i), f"{written!r} is the language {lang} ({name}) without a region: dates, numbers and "
                             "platform locale codes fall back to the language's defaults"
                             + (f"; did you mean {suggestion!r}?" if suggestion else ""))
    return out


def sort_problems(problems: Iterable[ConfigProblem]) -> list[ConfigProblem]:
    """``problems`` by file, then line (whole-file problems first), keeping the order within a line."""
    return sorted(problems, key=lambda p: (p.path, p.line or 0))
