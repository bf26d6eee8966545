"""Dates, times and numbers in the route's locale and time zone, and the ``{...}`` templates.

An item field or a human translation may hold templates that render per locale after translation
(the templates themselves are protected from machine translation):

==================================== =========================================================
template                             renders (``de-DE``, Europe/Berlin)
==================================== =========================================================
``{publish_at}``                     ``01.06.2026, 11:00:00`` (date and time, medium)
``{publish_at:date}``                ``01.06.2026``
``{publish_at:date:long}``           ``1. Juni 2026`` (widths: short, medium, long, full)
``{publish_at:time:short}``          ``11:00``
``{expires_at:datetime:short}``      ``30.06.26, 23:59``
``{datetime:2026-06-01T09:00:00Z}``  a literal instant (an offset is required), medium width
``{date:2026-06-01T09:00:00Z long}`` a literal instant's date, long width
``{number:1234.5}``                  ``1.234,5``
``{percent:0.25}``                   ``25 %``
``{currency:49.99:EUR}``             ``49,99 €``
==================================== =========================================================

Fields: ``publish_at``, ``expires_at``, ``approved_at``. Times are shown in the route's time
zone. Naive datetimes are refused everywhere: an instant without an offset has no local time.
Braces that do not form one of these templates are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Literal

from babel import dates, numbers

from ..base.fields import parse_aware_datetime
from ..base.locales import babel_locale
from ..errors import LocalizationError

__all__ = [
    "TEMPLATE",
    "TEMPLATE_FIELDS",
    "format_date",
    "format_datetime",
    "format_number",
    "format_time",
    "render_templates",
]

Width = Literal["short", "medium", "long", "full"]
_WIDTHS = ("short", "medium", "long", "full")
_KINDS = ("date", "time", "datetime")

#: Item fields a template may name.
TEMPLATE_FIELDS = ("publish_at", "expires_at", "approved_at")

#: A template expression: ``{name}`` or ``{name:args}``.
TEMPLATE = re.compile(
    r"\{(?P<name>publish_at|expires_at|approved_at|datetime|date|time|number|percent|currency)"
    r"(?::(?P<args>[^{}\n]{1,80}))?\}")


def _aware(value: datetime, what: str = "datetime") -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} is naive (no UTC offset); only aware datetimes can be shown in local time")
    return value


def format_datetime(value: datetime, locale: str, tz: tzinfo, width: Width = "medium") -> str:
    """Date and time of the aware ``value`` in ``tz``, as ``locale`` writes them.

    Raises:
        ValueError: ``value`` is naive.
    """
    return dates.format_datetime(_aware(value).astimezone(tz), format=width, locale=babel_locale(locale))


def format_date(value: datetime, locale: str, tz: tzinfo, width: Width = "medium") -> str:
    """The date of the aware ``value`` in ``tz`` (a late-evening UTC instant may be tomorrow there)."""
    return dates.format_date(_aware(value).astimezone(tz).date(), format=width, locale=babel_locale(locale))


def format_time(value: datetime, locale: str, tz: tzinfo, width: Width = "medium") -> str:
    """The time of day of the aware ``value`` in ``tz``."""
    local = _aware(value).astimezone(tz)
    return dates.format_time(local, format=width, locale=babel_locale(locale))


def format_number(value: Decimal | int | float | str, locale: str, *, style: Literal["decimal", "percent"] = "decimal"
                  ) -> str:
    """``value`` with ``locale``'s digits, group and decimal separators (``1234.5`` → ``1.234,5``)."""
    number = _decimal(value)
    loc = babel_locale(locale)
    if style == "percent":
        return numbers.format_percent(number, locale=loc)
    return numbers.format_decimal(number, locale=loc)


def _decimal(value: Decimal | int | float | str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _width(text: str | None, template: str) -> Width:
    if text is None:
        return "medium"
    if text not in _WIDTHS:
        raise ValueError(f"{template}: width must be one of {', '.join(_WIDTHS)}, not {text!r}")
    return text  # type: ignore[return-value]


def _render_one(match: re.Match[str], locale: str, tz: tzinfo, values: Mapping[str, datetime | None]) -> str:
    name, args, template = match["name"], match["args"], match.group(0)
    if name in TEMPLATE_FIELDS:
        value = values.get(name)
        if value is None:
            raise ValueError(f"{template}: the item has no {name}")
        parts = args.split(":") if args else []
        kind = parts[0] if parts else "datetime"
        if kind not in _KINDS or len(parts) > 2:
            raise ValueError(f"{template}: write {{{name}}}, {{{name}:date}}, {{{name}:time}} or "
                             f"{{{name}:datetime}}, optionally with a width, e.g. {{{name}:date:long}}")
        return _FORMATTERS[kind](value, locale, tz, _width(parts[1] if len(parts) > 1 else None, template))
    if not args:
        raise ValueError(f"{template}: needs a value, e.g. {{{name}:...}}")
    if name in _KINDS:
        iso, _, width = args.strip().partition(" ")
        try:
            instant = parse_aware_datetime(iso)
        except ValueError as exc:
            raise ValueError(f"{template}: {exc}") from None
        return _FORMATTERS[name](instant, locale, tz, _width(width or None, template))
    if name == "currency":
        amount, _, code = args.partition(":")
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError(f"{template}: write {{currency:AMOUNT:CODE}} with an ISO 4217 code, e.g. "
                             "{currency:49.99:EUR}")
        try:
            return numbers.format_currency(_decimal(amount), code, locale=babel_locale(locale))
        except ValueError as exc:
            raise ValueError(f"{template}: {exc}") from None
    try:
        return format_number(args, locale, style="percent" if name == "percent" else "decimal")
    except ValueError as exc:
        raise ValueError(f"{template}: {exc}") from None


_FORMATTERS = {"date": format_date, "time": format_time, "datetime": format_datetime}


def render_templates(text: str, *, locale: str, tz: tzinfo, values: Mapping[str, datetime | None],
                     field: str = "text") -> str:
    """``text`` with every template rendered in ``locale`` and ``tz``.

    Args:
        text: the text (a localized field).
        locale: the BCP 47 tag to format for.
        tz: the route's time zone.
        values: the item's datetime fields by name (``publish_at``, ...), each aware or None.
        field: the field's name, for error messages.

    Raises:
        LocalizationError: a malformed template, a field the item lacks, or a naive datetime.
    """
    if "{" not in text:
        return text
    try:
        return TEMPLATE.sub(lambda m: _render_one(m, locale, tz, values), text)
    except ValueError as exc:
        raise LocalizationError(f"{field}: {exc}") from None
