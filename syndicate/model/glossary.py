"""Glossary files: terms that keep a fixed translation per language, and terms never translated.

A glossary is a YAML file under ``config/glossaries/`` that routes name in
``translation.glossary``::

    # config/glossaries/product.yaml
    do_not_translate:          # kept exactly as written, in every language
      - Syndicate
      - Example Inc.
    terms:                     # term as written in the source → its translation, per language
      free trial:
        de: kostenlose Testversion
        fr: essai gratuit
        fr-CA: essai gratuit      # a locale wins over its language
        ja: 無料トライアル
      dashboard:
        de: Dashboard

Terms match whole words, case-sensitively; write each form you use (``Free trial`` at the start of
a sentence is another term). A term without a translation for the target language is kept as
written. The route's own ``do_not_translate`` list adds to the file's.

The glossary's *version* is a hash of everything that can change a translation (the file's
content and the route's list); it is part of every cache key, so editing a glossary re-translates
what it touches and nothing is served from a stale cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ..base.locales import InvalidLocale, canonical, maximize

__all__ = ["Glossary", "GlossaryFile", "ResolvedGlossary"]

Term = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class GlossaryFile(BaseModel):
    """The schema of a glossary file."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    do_not_translate: list[Term] = Field(default_factory=list)
    terms: dict[Term, dict[str, Annotated[str, StringConstraints(min_length=1, max_length=200)]]] = Field(
        default_factory=dict)

    @field_validator("terms")
    @classmethod
    def _locales(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for term, translations in v.items():
            if term != term.strip():
                raise ValueError(f"term {term!r} has leading or trailing spaces")
            fixed: dict[str, str] = {}
            for tag, text in translations.items():
                try:
                    fixed[canonical(tag)] = text
                except InvalidLocale as exc:
                    raise ValueError(f"term {term!r}: {exc}") from None
            out[term] = fixed
        return out


@dataclass(frozen=True)
class ResolvedGlossary:
    """A glossary applied to one target locale: what to protect, and what each term becomes."""

    terms: tuple[str, ...] = ()
    replacements: Mapping[str, str] = field(default_factory=dict)
    version: str = ""


@dataclass(frozen=True)
class Glossary:
    """A parsed glossary file (or an empty one)."""

    data: GlossaryFile = field(default_factory=GlossaryFile)

    def version(self, extra_terms: Sequence[str] = ()) -> str:
        """A short hash of the glossary and ``extra_terms`` (a route's do-not-translate list)."""
        payload = json.dumps({"glossary": self.data.model_dump(mode="json"), "extra": sorted(set(extra_terms))},
                             sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def resolve(self, locale: str, extra_terms: Sequence[str] = ()) -> ResolvedGlossary:
        """The terms to protect and their replacements for target ``locale``.

        A translation given for the exact locale wins, then one for its language and region
        (``zh-TW`` for ``zh-Hant-TW``), then for its language and script (``zh-Hant``), then for
        its language.
        """
        given = canonical(locale)
        lang, script, region = maximize(locale)
        wanted = [given]
        if region and "-" in given:
            wanted.append(f"{lang}-{region}")
        if script:
            wanted.append(f"{lang}-{script}")
        wanted.append(lang)
        replacements: dict[str, str] = {}
        for term, translations in self.data.terms.items():
            for tag in wanted:
                if tag in translations:
                    replacements[term] = translations[tag]
                    break
        keep = {*self.data.do_not_translate, *extra_terms, *self.data.terms}
        return ResolvedGlossary(tuple(sorted(keep)), replacements, self.version(extra_terms))
