"""Localize one item revision into one locale: human translation > machine translation > source.

Per field, in order of precedence:

1. the region's human translation (``overrides.locales[locale]``): source ``human``;
2. the source text when the target has the item's language (``en-US`` → ``en-GB``): ``source``;
3. the route's engine, one batch call for every remaining field, protected spans masked: ``machine``
   (``none`` engine: ``source``);
4. on engine failure, the route's ``fallback``: another engine, ``source`` (publish the source text,
   recorded as such), or ``hold`` (raise, and the publications wait).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..config import TranslationSettings
from ..errors import LocalizationError, TranslationRejected
from ..locales import babel_locale, language
from ..models import TRANSLATABLE_FIELDS, ContentItem, LocalizedFields
from .engines import TranslateOptions, Translator, build_translator
from .masking import Masked, mask, unmask

__all__ = ["Localization", "localize_item", "source_fields"]


@dataclass(frozen=True)
class Localization:
    """The localized fields, where each came from, and what a reviewer should know."""

    fields: dict[str, str]
    sources: dict[str, str]
    engine: str
    warnings: list[str] = field(default_factory=list)

    @property
    def machine_made(self) -> bool:
        """Whether any field was machine translated."""
        return "machine" in self.sources.values()


def source_fields(item: ContentItem) -> dict[str, str]:
    """The item's translatable fields in the source locale (empty ones left out)."""
    values = {"title": item.title, "summary": item.summary, "body": item.body,
              "cta_text": item.cta.text if item.cta else ""}
    return {k: values[k] for k in TRANSLATABLE_FIELDS if values[k]}


def _machine(translator: Translator, todo: Mapping[str, str], source: str, target: str,
             settings: TranslationSettings, opts: TranslateOptions) -> dict[str, str]:
    names = list(todo)
    masked: list[Masked] = []
    offsets: list[int] = []
    next_id = 0
    for name in names:
        m = mask(todo[name], settings.do_not_translate, start=next_id)
        masked.append(m)
        offsets.append(next_id)
        next_id += len(m.spans)
    result = translator.translate([m.text for m in masked], source, target, opts)
    if len(result) != len(names):
        raise TranslationRejected(f"engine {translator.name!r} returned {len(result)} segments for {len(names)}")
    return {name: unmask(out, m, start=off, field=name)
            for name, out, m, off in zip(names, result, masked, offsets, strict=True)}


def _human_translation(item: ContentItem, locale: str) -> tuple[str, LocalizedFields] | None:
    """The override for ``locale``, else one for a locale of the same language and script
    (a German translation serves de-AT and de-CH unless they have their own)."""
    exact = item.overrides.locales.get(locale)
    if exact is not None:
        return locale, exact
    want = babel_locale(locale)
    for tag, fields in item.overrides.locales.items():
        have = babel_locale(tag)
        if have.language == want.language and have.script == want.script:
            return tag, fields
    return None


def localize_item(
    item: ContentItem,
    locale: str,
    settings: TranslationSettings,
    *,
    translators: Mapping[str, Translator] | None = None,
    glossary: Mapping[str, str] | None = None,
) -> Localization:
    """Localize ``item`` into ``locale`` per ``settings``.

    Args:
        item: the item.
        locale: the target locale (canonical BCP 47).
        settings: the route's translation settings.
        translators: engines by name (tests and the worker pass built instances); built on demand
            from ``settings`` otherwise.
        glossary: term → translation for the target language.

    Raises:
        LocalizationError: the engine and its fallback failed, or no engine is configured.
    """
    src = source_fields(item)
    found = _human_translation(item, locale)
    human = found[1] if found else None
    fields: dict[str, str] = {}
    sources: dict[str, str] = {}
    warnings: list[str] = []
    if found is not None and found[0] != locale:
        warnings.append(f"{locale} uses the human translation written for {found[0]}")
    if human is not None:
        for name, text in human.given().items():
            if name in src:
                fields[name] = text
                sources[name] = "human"
    todo = {k: v for k, v in src.items() if k not in fields}
    if not todo:
        return Localization(fields, sources, "human", warnings)
    if locale == item.source_locale or language(locale) == language(item.source_locale):
        for name, text in todo.items():
            fields[name] = text
            sources[name] = "source"
        return Localization(fields, sources, "source" if not human else "human", warnings)

    opts = TranslateOptions(engine_options=settings.options, glossary=dict(glossary or {}))

    def engine(name: str) -> Translator:
        if translators and name in translators:
            return translators[name]
        return build_translator(name, settings.options)

    if settings.engine is None:
        raise LocalizationError(
            f"no translation for {locale}: the item is in {item.source_locale}, its overrides do not cover "
            f"{', '.join(todo)}, and the route sets no translation.engine")
    try:
        translated = _machine(engine(settings.engine), todo, item.source_locale, locale, settings, opts)
        kind = "source" if settings.engine == "none" else "machine"
        used = settings.engine
    except LocalizationError as exc:
        fb = settings.fallback
        if fb == "hold" or fb == settings.engine:
            raise
        warnings.append(f"engine {settings.engine!r} failed ({exc}); used fallback {fb!r}")
        if fb == "source":
            translated, kind, used = dict(todo), "source", f"{settings.engine}>source"
        else:
            translated = _machine(engine(fb), todo, item.source_locale, locale, settings, opts)
            kind, used = ("source" if fb == "none" else "machine"), fb
    for name, text in translated.items():
        fields[name] = text
        sources[name] = kind
    if kind == "source" and settings.engine != "none":
        warnings.append(f"{locale} publishes the source text ({item.source_locale}) for {', '.join(todo)}")
    return Localization(fields, sources, used, warnings)


def missing_fields(loc: Localization, item: ContentItem) -> Sequence[str]:
    """Fields of the source that the localization lacks (should be empty)."""
    return [k for k in source_fields(item) if k not in loc.fields]
