"""What a route's translation means for the engines: the engine profiles it names, resolved.

A route names engine profiles (ops define them in ``settings.yaml``, see
:class:`~syndicate.model.config.EngineProfile`); the engines need their engine names and options.
:func:`translation_settings` turns the one into the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model.config import BUILT_IN, EngineProfile, Route, RouteTranslation, TranslationSettings
from .engines import ENGINES

__all__ = ["engine_of", "translation_settings"]


def engine_of(name: str, profiles: Mapping[str, EngineProfile]) -> str | None:
    """The engine behind ``name`` (a built-in engine or a profile), or None if unknown."""
    if name in BUILT_IN:
        return name
    profile = profiles.get(name)
    return profile.engine if profile is not None and profile.engine in ENGINES else None


def _options_for(name: str, profiles: Mapping[str, EngineProfile], formality: str | None) -> dict[str, Any]:
    if name in BUILT_IN:
        return {}
    profile = profiles[name]
    options = dict(profile.options)
    if formality is not None and "formality" in ENGINES[profile.engine].options.model_fields:
        options["formality"] = formality
    return options


def _resolve(t: RouteTranslation, profiles: Mapping[str, EngineProfile]) -> dict[str, Any]:
    """What a route's translation means for the engines: the fields of
    :class:`~syndicate.config.TranslationSettings` (engine and fallback engine by their engine
    names, each with its profile's options and the route's formality where the engine has one).

    The names are checked by :func:`route_translation_problems` when the config is loaded.
    """
    out: dict[str, Any] = {"glossary": t.glossary, "do_not_translate": list(t.do_not_translate),
                           "review_required": t.review_required}
    if t.engine is not None:
        out["engine"] = engine_of(t.engine, profiles)
        out["options"] = _options_for(t.engine, profiles, t.formality)
    if t.fallback in ("hold", "source"):
        out["fallback"] = t.fallback
    else:
        out["fallback"] = engine_of(t.fallback, profiles)
        out["fallback_options"] = _options_for(t.fallback, profiles, t.formality)
    return out


def translation_settings(route: Route, profiles: Mapping[str, EngineProfile]) -> TranslationSettings:
    """``route``'s translation with the engine profiles it names resolved: the engines and their
    options (endpoint, key reference, the route's formality)."""
    return TranslationSettings.model_validate(_resolve(route.translation, profiles))
