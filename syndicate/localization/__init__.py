"""Stage 2, localization: human overrides, machine translation with protected spans (a markup mode,
or the split strategy when an engine damages placeholders), caching, locale formats, the review
gate, and the localize step (:mod:`.step`)."""

from ..model.glossary import Glossary, GlossaryFile, ResolvedGlossary
from .cache import LedgerCache, NoCache, RedisCache, TranslationCache, cache_key, translation_cache
from .engines import ENGINES, build_translator
from .formatting import format_date, format_datetime, format_number, format_time, render_templates
from .localize import (
    Localization,
    localize_for_route,
    localize_item,
    open_translators,
    refused_detail,
    source_fields,
    translation_detail,
)
from .masking import Masked, mask, protected_spans, unmask
from .options import NoneTranslator, PseudoTranslator, TranslateOptions, Translator

__all__ = [
    "ENGINES",
    "Glossary",
    "GlossaryFile",
    "LedgerCache",
    "Localization",
    "Masked",
    "NoCache",
    "NoneTranslator",
    "PseudoTranslator",
    "RedisCache",
    "ResolvedGlossary",
    "TranslateOptions",
    "TranslationCache",
    "Translator",
    "build_translator",
    "cache_key",
    "format_date",
    "format_datetime",
    "format_number",
    "format_time",
    "localize_for_route",
    "localize_item",
    "mask",
    "open_translators",
    "protected_spans",
    "refused_detail",
    "render_templates",
    "source_fields",
    "translation_cache",
    "translation_detail",
    "unmask",
]
