"""Localize one item revision into one locale: human translation > cache > machine translation.

Per field, in order of precedence (the ledger records which one, per field, in
``localizations.sources``):

1. ``human``: the region's human translation (``overrides.locales[locale]``, or one written for
   another locale of the same language and script, with a warning);
2. ``source``: the source text, when the target has the item's language (``en-US`` → ``en-GB``);
3. ``cache``: a translation of the same masked text by the same engine, options, language pair and
   glossary version (see :mod:`.cache`);
4. ``machine``: the route's engine, one batch for every remaining field, protected spans masked and
   checked on the way back (the ``placeholders`` strategy); a field whose placeholders did not
   come back exactly once is translated again in pieces cut at its spans (the ``split``
   strategy, see :mod:`.strategies`), which needs no placeholder. The strategy of each field is
   in :attr:`Localization.strategies`;
5. on engine failure (unreachable, quota, refused, or both strategies failed), the route's
   ``fallback``: another engine (its answers recorded as ``machine``),
   ``source`` (publish the source text, recorded as ``source``), or ``hold`` (raise: the
   publications wait, and nothing damaged is published). A fallback is never silent: it is in
   :attr:`Localization.warnings` and :attr:`Localization.fallback`, which the pipeline logs and
   records as an event.

Finally ``{...}`` templates (see :mod:`.formatting`) render in the target locale and time zone.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Any

from ..base.locales import UnsupportedLocale, babel_locale, engine_code, language
from ..base.metrics import count_mt_damaged, count_mt_strategy
from ..base.secrets import SecretSource, redact
from ..errors import (
    LocalizationError,
    PlaceholderMismatch,
    TranslationQuotaExceeded,
    TranslationRejected,
    TranslationUnavailable,
)
from ..model.glossary import Glossary, ResolvedGlossary
from ..model.item import TRANSLATABLE_FIELDS, ContentItem, LocalizedFields
from .cache import NoCache, TranslationCache, cache_key
from .engines import ENGINES, build_translator, cache_identity
from .formatting import TEMPLATE_FIELDS, render_templates
from .masking import Masked, check_placeholders, mask, unmask
from .options import TranslateOptions, Translator
from .profiles import translation_settings
from .retrying import RETRY_BUDGET
from .strategies import PLACEHOLDERS, SPLIT, join_pieces, restore_spacing, split_pieces

if TYPE_CHECKING:
    from ..model.config import Route, TranslationSettings
    from ..services import Services

__all__ = ["Localization", "localize_for_route", "localize_item", "open_translators", "refused_detail",
           "source_fields", "translation_detail"]

#: The longest refused answer kept per field for the reviewer (characters).
MAX_ANSWER_KEPT = 4_000

#: Field kinds recorded in ``localizations.sources``.
KINDS = ("human", "machine", "cache", "source")


@dataclass(frozen=True)
class Localization:
    """The localized fields, where each came from, and what a reviewer should know.

    Attributes:
        fields: field name → text.
        sources: field name → ``human``, ``machine``, ``cache`` or ``source``.
        engine: the engine that produced the machine fields (``deepl``, ``deepl>google`` after a
            fallback, ``human``, ``source``).
        warnings: what a reviewer or operator should know (fallbacks, borrowed translations).
        fallback: what the route's fallback supplied (an engine name or ``source``), or None.
        requests: requests sent to engines.
        cache_hits: fields served from the cache.
        strategies: field name → ``placeholders`` or ``split``, for each freshly machine-translated
            field (see :mod:`.strategies`).
        damaged: engine answers refused because their protected spans did not come back.
    """

    fields: dict[str, str]
    sources: dict[str, str]
    engine: str
    warnings: list[str] = field(default_factory=list)
    fallback: str | None = None
    requests: int = 0
    cache_hits: int = 0
    strategies: dict[str, str] = field(default_factory=dict)
    damaged: int = 0

    @property
    def strategy(self) -> str | None:
        """``split`` if any field needed it, ``placeholders`` if fields were machine-translated
        whole, None when no field was freshly machine-translated."""
        if SPLIT in self.strategies.values():
            return SPLIT
        return PLACEHOLDERS if self.strategies else None

    @property
    def machine_made(self) -> bool:
        """Whether any field is a machine translation (fresh or cached)."""
        return any(kind in ("machine", "cache") for kind in self.sources.values())

    @property
    def needs_review(self) -> bool:
        """Whether a route that requires review must hold it: machine text, or a fallback."""
        return self.machine_made or self.fallback is not None


def source_fields(item: ContentItem) -> dict[str, str]:
    """The item's translatable fields in the source locale (empty ones left out)."""
    values = {"title": item.title, "summary": item.summary or "", "body": item.body,
              "cta_text": item.cta.text if item.cta else "", "first_comment": item.first_comment or ""}
    return {k: values[k] for k in TRANSLATABLE_FIELDS if values[k]}


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


def options_for(settings: TranslationSettings, engine: str) -> Mapping[str, Any]:
    """The options of ``engine`` on a route: ``options`` for the engine, ``fallback_options`` for
    the fallback engine."""
    if engine == settings.engine:
        return settings.options
    if engine == settings.fallback:
        return getattr(settings, "fallback_options", {}) or {}
    return {}


@contextlib.contextmanager
def open_translators(settings: TranslationSettings, *, secrets: SecretSource | None = None
                     ) -> Iterator[dict[str, Translator]]:
    """Build the route's engine and fallback engine; close them afterwards.

    An engine that cannot be built (a credential's variable is not set) is left out: localizing
    with it raises ``TranslationRejected``, and the fallback applies.
    """
    built: dict[str, Translator] = {}
    for name in (settings.engine, settings.fallback):
        if name is None or name in built or name not in ENGINES:
            continue
        with contextlib.suppress(TranslationRejected):
            built[name] = build_translator(name, options_for(settings, name), secrets=secrets)
    try:
        yield built
    finally:
        for tr in built.values():
            _close(tr)


def _close(tr: Translator) -> None:
    close = getattr(tr, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):
            close()


@contextlib.contextmanager
def _translator(name: str, given: Mapping[str, Translator], settings: TranslationSettings,
                secrets: SecretSource | None) -> Iterator[Translator]:
    """The translator ``given`` for ``name``, else one built for this call and closed after it."""
    if name in given:
        yield given[name]
        return
    built = build_translator(name, options_for(settings, name), secrets=secrets)
    try:
        yield built
    finally:
        _close(built)


@dataclass
class _Outcome:
    fields: dict[str, str]
    kinds: dict[str, str]
    requests: int
    hits: int
    strategies: dict[str, str] = field(default_factory=dict)
    damaged: int = 0
    warnings: list[str] = field(default_factory=list)


def _whole(name: str, translator: Translator, masked: Mapping[str, Masked], source: str, locale: str,
           options: TranslateOptions) -> tuple[dict[str, str], list[str], dict[str, str], list[str]]:
    """The ``placeholders`` strategy: each field whole.

    Returns the answers whose placeholders came back (spacing around them repaired), the fields
    refused, the engine's refused answers (by field, or under ``*`` for a joined batch that could
    not be split back per field), and why they were refused.
    """
    names = list(masked)
    try:
        result = translator.translate([masked[n].text for n in names], source, locale, options)
    except PlaceholderMismatch as exc:  # a joined batch that cannot be split back per field
        return {}, names, dict(exc.answers), [str(exc)]
    if len(result) != len(names):
        raise TranslationRejected(f"engine {name!r} returned {len(result)} segments for {len(names)}")
    good: dict[str, str] = {}
    refused: dict[str, str] = {}
    why: list[str] = []
    for n, out in zip(names, result, strict=True):
        fixed = restore_spacing(out, masked[n].text)
        try:
            check_placeholders(fixed, masked[n], field=n)
        except PlaceholderMismatch as exc:
            refused[n] = out
            why.append(str(exc))
            continue
        good[n] = fixed
    return good, list(refused), refused, why


def _split(translator: Translator, masked: Mapping[str, Masked], source: str, locale: str,
           options: TranslateOptions) -> dict[str, str]:
    """The ``split`` strategy: the text between the spans of every field, as plain text pieces in
    one batch; each field joined again around its placeholders."""
    parts = {n: split_pieces(m.text) for n, m in masked.items()}
    flat = [piece for p in parts.values() for piece in p[0::2]]
    result = translator.translate(flat, source, locale, replace(options, markup=False))
    if len(result) != len(flat):
        raise TranslationRejected(f"the engine returned {len(result)} pieces for {len(flat)}")
    out: dict[str, str] = {}
    pos = 0
    for n, p in parts.items():
        count = len(p[0::2])
        out[n] = join_pieces(p, result[pos:pos + count])
        pos += count
        check_placeholders(out[n], masked[n], field=n)
    return out


def _machine(name: str, translator: Translator, todo: Mapping[str, str], item: ContentItem,
             locale: str, settings: TranslationSettings, gloss: ResolvedGlossary, cache: TranslationCache,
             deadline: float | None = None) -> _Outcome:
    """Translate ``todo`` with engine ``name``: cache first, then one batch for the rest."""
    spec = ENGINES.get(name)
    if spec is None:
        raise TranslationRejected(f"unknown translation engine {name!r}")
    opts = options_for(settings, name)
    try:
        src_code = engine_code(name, item.source_locale, role="source")
        tgt_code = engine_code(name, locale)
    except UnsupportedLocale as exc:
        raise TranslationRejected(str(exc)) from None
    markup = item.body_format == "html"
    masked: dict[str, Masked] = {
        n: mask(text, gloss.terms, replacements=gloss.replacements, markup=markup and n == "body")
        for n, text in todo.items()}
    use_cache = spec.remote
    identity = cache_identity(name, opts) if use_cache else {}
    keys = {n: cache_key(m.text, engine=name, options=identity, source=src_code, target=tgt_code,
                         glossary_version=gloss.version) for n, m in masked.items()}
    fields: dict[str, str] = {}
    kinds: dict[str, str] = {}
    hits = cache.get_many(list(keys.values())) if use_cache else {}
    for n, m in masked.items():
        cached = hits.get(keys[n])
        if cached is None:
            continue
        try:
            fields[n] = unmask(cached, m, field=n)
            kinds[n] = "cache"
        except PlaceholderMismatch:
            continue  # a damaged entry: translate again
    misses = [n for n in masked if n not in fields]
    before = getattr(translator, "requests", 0)
    strategies: dict[str, str] = {}
    warnings: list[str] = []
    damaged = 0
    if misses:
        options = TranslateOptions(engine_options=opts, glossary=gloss.replacements, glossary_version=gloss.version,
                                   retry_deadline=deadline)
        todo_masked = {n: masked[n] for n in misses}
        answers, refused, shown, why = _whole(name, translator, todo_masked, item.source_locale, locale, options)
        strategies.update(dict.fromkeys(answers, PLACEHOLDERS))
        if refused:
            damaged = len(refused)
            count_mt_damaged(name, PLACEHOLDERS, damaged)
            try:
                pieces = _split(translator, {n: masked[n] for n in refused}, item.source_locale, locale, options)
            except TranslationRejected as exc:  # PlaceholderMismatch included; transient errors propagate
                count_mt_damaged(name, SPLIT, len(refused))
                raise PlaceholderMismatch(
                    f"{'; '.join(why)}; translating the text between the protected spans failed too: "
                    f"{redact(str(exc))}", answers=shown) from None
            answers.update(pieces)
            strategies.update(dict.fromkeys(pieces, SPLIT))
            warnings.append(f"{locale}: {name}: {'; '.join(why)}; {', '.join(pieces)} translated again in pieces "
                            "between the protected spans (the engine saw no whole sentence around them)")
        kind = "machine" if spec.remote or name == "pseudo" else "source"
        for n in misses:
            fields[n] = unmask(answers[n], masked[n], field=n)
            kinds[n] = kind
        for strategy in (PLACEHOLDERS, SPLIT):
            used = sum(1 for v in strategies.values() if v == strategy)
            if used:
                count_mt_strategy(name, strategy, used)
        if use_cache:
            cache.put_many({keys[n]: answers[n] for n in misses})
    requests = getattr(translator, "requests", 0) - before
    return _Outcome(fields, kinds, requests, sum(1 for k in kinds.values() if k == "cache"), strategies, damaged,
                    warnings)


def _combined_error(errors: Sequence[tuple[str, LocalizationError]]) -> LocalizationError:
    """One error for a chain of failures: transient if any was (a later attempt may succeed)."""
    text = "; ".join(f"{name}: {redact(str(exc))}" if not str(exc).startswith(name) else redact(str(exc))
                     for name, exc in errors)
    if len(errors) == 1:
        return errors[0][1]
    for _name, exc in errors:
        if isinstance(exc, TranslationQuotaExceeded):
            return TranslationQuotaExceeded(text)
        if isinstance(exc, TranslationUnavailable):
            return TranslationUnavailable(text)
    answers = next((exc.answers for _name, exc in errors if isinstance(exc, PlaceholderMismatch) and exc.answers), {})
    if answers:
        return PlaceholderMismatch(text, answers=answers)
    last = errors[-1][1]
    return type(last)(text) if isinstance(last, TranslationRejected) else TranslationRejected(text)


def localize_item(
    item: ContentItem,
    locale: str,
    settings: TranslationSettings,
    *,
    translators: Mapping[str, Translator] | None = None,
    glossary: Glossary | None = None,
    cache: TranslationCache | None = None,
    secrets: SecretSource | None = None,
    timezone: tzinfo = UTC,
) -> Localization:
    """Localize ``item`` into ``locale`` per ``settings``.

    Args:
        item: the item.
        locale: the target locale (canonical BCP 47).
        settings: the route's translation settings.
        translators: engines by name (the worker passes those of :func:`open_translators`);
            built on demand from ``settings`` otherwise.
        glossary: the route's glossary file, if any.
        cache: the translation cache (default: none).
        secrets: where ``${VAR}`` references in engine options resolve.
        timezone: the route's time zone, for ``{publish_at:...}`` templates.

    Raises:
        LocalizationError: the engine and its fallback failed, no engine is configured, or a
            template is invalid.
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
    engine_used = "human"
    fallback: str | None = None
    requests = hits = damaged = 0
    strategies: dict[str, str] = {}
    if todo and (locale == item.source_locale or language(locale) == language(item.source_locale)):
        for name, text in todo.items():
            fields[name] = text
            sources[name] = "source"
        engine_used = "source" if not human else "human"
    elif todo:
        if settings.engine is None:
            raise LocalizationError(
                f"no translation for {locale}: the item is in {item.source_locale}, its overrides do not cover "
                f"{', '.join(todo)}, and the route sets no translation.engine")
        gloss = (glossary or Glossary()).resolve(locale, settings.do_not_translate)
        # One budget for every in-step retry of this localization, whatever engine or strategy.
        deadline = time.monotonic() + RETRY_BUDGET.total_seconds()
        chain = [settings.engine]
        if settings.fallback not in ("hold", "source", settings.engine):
            chain.append(settings.fallback)
        errors: list[tuple[str, LocalizationError]] = []
        outcome: _Outcome | None = None
        for name in chain:
            try:
                with _translator(name, translators or {}, settings, secrets) as translator:
                    outcome = _machine(name, translator, todo, item, locale, settings, gloss, cache or NoCache(),
                                       deadline)
            except LocalizationError as exc:
                errors.append((name, exc))
                continue
            except ValueError as exc:  # invalid options (the config check normally catches them)
                errors.append((name, TranslationRejected(f"{name}: {redact(str(exc))}")))
                continue
            engine_used = name if not errors else f"{settings.engine}>{name}"
            break
        if outcome is None:
            if settings.fallback != "source":
                raise _combined_error(errors)
            outcome = _Outcome(dict(todo), dict.fromkeys(todo, "source"), 0, 0)
            engine_used = f"{settings.engine}>source"
            fallback = "source"
            warnings.append(f"{locale}: {_combined_error(errors)}; the route's fallback publishes the source "
                            f"text ({item.source_locale}) for {', '.join(todo)}")
        elif errors:
            fallback = chain[-1]
            warnings.append(f"{locale}: {_combined_error(errors)}; translated with the fallback engine "
                            f"{fallback!r} instead")
        fields.update(outcome.fields)
        sources.update(outcome.kinds)
        requests, hits = outcome.requests, outcome.hits
        strategies, damaged = outcome.strategies, outcome.damaged
        damaged += sum(len(exc.answers) for _name, exc in errors if isinstance(exc, PlaceholderMismatch))
        warnings.extend(outcome.warnings)
    values = {name: getattr(item, name) for name in TEMPLATE_FIELDS}
    rendered = {name: render_templates(text, locale=locale, tz=timezone, values=values, field=name)
                for name, text in fields.items()}
    ordered = {k: rendered[k] for k in TRANSLATABLE_FIELDS if k in rendered}
    return Localization(ordered, {k: sources[k] for k in ordered}, engine_used, warnings, fallback, requests, hits,
                        {k: strategies[k] for k in ordered if k in strategies}, damaged)


def localize_for_route(rt: Services, route: Route, item: ContentItem, locale: str, *,
                       cache: TranslationCache | None = None) -> Localization:
    """Localize ``item`` into ``locale`` as ``route`` says, with the runtime's secrets and glossaries.

    What the worker does (``do_localize``) and what a preview should do: the engine profiles the
    route names (engine and fallback, each with its profile's options), its glossary, its time
    zone. Pass ``cache`` (see :func:`~syndicate.localization.cache.translation_cache`) to reuse
    and store translations.

    Raises:
        LocalizationError: as :func:`localize_item`.
    """
    settings = translation_settings(route, rt.config.engine_profiles)
    with open_translators(settings, secrets=rt.config.secrets) as translators:
        return localize_item(item, locale, settings, translators=translators, glossary=rt.config.glossary_for(route),
                             cache=cache, secrets=rt.config.secrets, timezone=route.tz)


def translation_detail(loc: Localization) -> dict[str, Any] | None:
    """What the ledger keeps of how ``loc`` was machine-translated (``localizations.detail``)."""
    return {"strategies": dict(loc.strategies)} if loc.strategies else None


def refused_detail(exc: LocalizationError) -> dict[str, Any] | None:
    """What the ledger keeps of a failed localization for the reviewer: the engine's refused
    answers (redacted, cut short), when both strategies failed."""
    if not isinstance(exc, PlaceholderMismatch) or not exc.answers:
        return None
    return {"answers": {name: redact(text)[:MAX_ANSWER_KEPT] for name, text in exc.answers.items()}}


def missing_fields(loc: Localization, item: ContentItem) -> Sequence[str]:
    """Fields of the source that the localization lacks (should be empty)."""
    return [k for k in source_fields(item) if k not in loc.fields]
