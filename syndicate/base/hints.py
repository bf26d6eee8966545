"""Hints in error messages: a value as the user wrote it, and what they probably meant."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = ["did_you_mean", "shown"]


def shown(value: Any) -> str:
    """``value`` as it looks in YAML: ``'yes'``, ``5``, ``true``, ``an empty value``, ``a list``."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def did_you_mean(value: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The choice ``value`` most likely stands for: same letters in another case, else the closest
    spelling (``timzone`` → ``timezone``), else None."""
    options = list(dict.fromkeys(choices))
    folded = {c.casefold(): c for c in options}
    if value.casefold() in folded and folded[value.casefold()] != value:
        return folded[value.casefold()]
    close = difflib.get_close_matches(value.casefold(), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close and folded[close[0]] != value else None


# -- where an error is: the model type at a location ------------------------------------------------
