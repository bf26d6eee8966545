"""Localization: human overrides, machine translation with protected spans, locale formats."""

from .engines import ENGINES, NoneTranslator, PseudoTranslator, TranslateOptions, Translator, build_translator
from .localize import Localization, localize_item, source_fields
from .masking import Masked, mask, protected_spans, unmask

__all__ = [
    "ENGINES",
    "Localization",
    "Masked",
    "NoneTranslator",
    "PseudoTranslator",
    "TranslateOptions",
    "Translator",
    "build_translator",
    "localize_item",
    "mask",
    "protected_spans",
    "source_fields",
    "unmask",
]
