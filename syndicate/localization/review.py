"""The review gate: look at a machine-made localization, then release or stop its publications.

A route with ``translation.review_required: true`` holds every publication whose localization
contains machine text (fresh or cached) or came from a fallback in ``awaiting_review``. A reviewer
looks at the text field by field next to the source, then approves (the publications go back to
``scheduled`` and are sent when due) or rejects them (they are cancelled, with the reason). The
ledger records who decided, when, and why.

>>> from syndicate import Runtime, show_review, approve_review           # doctest: +SKIP
>>> rt = Runtime.create()                                                # doctest: +SKIP
>>> review = show_review(rt.ledger, "spring-launch", "de-DE")            # doctest: +SKIP
>>> [(f.name, f.kind) for f in review.fields]                            # doctest: +SKIP
[('title', 'human'), ('summary', 'machine'), ('body', 'cache'), ('cta_text', 'machine')]
>>> approve_review(rt.ledger, "spring-launch", "de-DE", by="anna")       # doctest: +SKIP

The same from the command line: ``syndicate review ITEM --locale L``, ``syndicate approve ITEM
--locale L --by NAME`` and ``syndicate reject ITEM --locale L --reason TEXT``.
"""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..base.locales import InvalidLocale, canonical, is_rtl
from ..base.terminal import printable
from ..errors import ContentError
from ..model.states import PublicationState
from . import source_fields

if TYPE_CHECKING:
    from ..ledger import Ledger, Publication

__all__ = ["Review", "ReviewField", "approve_review", "format_review", "reject_review", "show_review"]


@dataclass(frozen=True)
class ReviewField:
    """One field, in the source and localized.

    Attributes:
        name: ``title``, ``summary``, ``body`` or ``cta_text``.
        source: the text in the item's source locale.
        localized: the text to be published.
        kind: where the localized text came from: ``human``, ``machine``, ``cache`` or ``source``.
        strategy: for a fresh machine translation, how it was made: ``placeholders`` (the field
            whole) or ``split`` (in pieces between its protected spans); else None.
        answer: the engine's refused answer, when the localization was held because both
            strategies failed (placeholders as the engine returned them); else None.
    """

    name: str
    source: str
    localized: str
    kind: str
    strategy: str | None = None
    answer: str | None = None


@dataclass(frozen=True)
class Review:
    """A localization as a reviewer sees it.

    Attributes:
        item_id: the item.
        revision: the revision reviewed (the newest unless asked otherwise).
        locale: the localization's locale.
        source_locale: the item's source locale.
        state: the localization's state: ``pending``, ``done`` or ``failed``.
        engine: what produced it (``deepl``, ``deepl>google`` after a fallback, ``human``...).
        fields: each field, source next to localized.
        warnings: what the localization step noted (fallbacks, borrowed translations).
        error: why the localization failed, when it did.
        publications: the locale's publications of this revision.
        rtl: whether the locale is written right to left.
        refused: the engine's refused answers by field (``*``: one answer for all fields joined,
            which could not be split back), when both strategies failed.
    """

    item_id: str
    revision: int
    locale: str
    source_locale: str
    state: str
    engine: str | None
    fields: tuple[ReviewField, ...]
    warnings: tuple[str, ...]
    error: str | None
    publications: tuple[Publication, ...]
    rtl: bool
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def awaiting(self) -> list[Publication]:
        """The publications that wait for a decision."""
        return [p for p in self.publications if p.state == PublicationState.AWAITING_REVIEW]


def _locale(tag: str) -> str:
    try:
        return canonical(tag)
    except InvalidLocale as exc:
        raise ContentError(str(exc), field="locale") from None


def _revision(ledger: Ledger, item_id: str, revision: int | None) -> int:
    stored = ledger.item(item_id, revision)
    if stored is None:
        what = f"revision {revision} of item" if revision is not None else "item"
        raise ContentError(f"{what} not found in the ledger", item_id=item_id)
    return stored.item.revision


def show_review(ledger: Ledger, item_id: str, locale: str, *, revision: int | None = None) -> Review:
    """The localization of ``item_id`` in ``locale``, next to its source.

    Raises:
        ContentError: the item, or its localization into ``locale``, is not in the ledger.
    """
    loc_tag = _locale(locale)
    rev = _revision(ledger, item_id, revision)
    stored = ledger.item(item_id, rev)
    assert stored is not None
    row = ledger.localization(item_id, rev, loc_tag)
    if row is None:
        raise ContentError(f"revision {rev} is not published in {loc_tag}", item_id=item_id)
    src = source_fields(stored.item)
    localized = row.get("fields") or {}
    kinds = row.get("sources") or {}
    detail = row.get("detail") or {}
    strategies = detail.get("strategies") or {}
    refused = {str(k): str(v) for k, v in (detail.get("answers") or {}).items()} if row["state"] != "done" else {}
    fields = tuple(ReviewField(name, src[name], localized.get(name, ""), kinds.get(name, "?"), strategies.get(name),
                               refused.get(name)) for name in src)
    warnings: tuple[str, ...] = ()
    for ev in reversed(ledger.events(item_id=item_id)):
        detail = ev.get("detail") or {}
        if ev["kind"] == "localized" and ev["revision"] == rev and detail.get("locale") == loc_tag:
            warnings = tuple(detail.get("warnings") or ())
            break
    pubs = tuple(ledger.publications(item_id=item_id, revision=rev, locale=loc_tag))
    return Review(item_id, rev, loc_tag, stored.item.source_locale, row["state"], row.get("engine"), fields,
                  warnings, row.get("error"), pubs, is_rtl(loc_tag), refused)


def _who(by: str) -> str:
    name = (by or "").strip()
    if not name:
        raise ContentError("say who decides (by=...): the ledger records the reviewer")
    return name


def approve_review(ledger: Ledger, item_id: str, locale: str, *, by: str, revision: int | None = None,
                   actor: str | None = None) -> list[Publication]:
    """Release the publications of ``item_id`` in ``locale`` that wait for review.

    They go back to ``scheduled``, ready, and are sent when due. Returns them (empty when none
    was waiting). ``actor``: who is authenticated, when not the reviewer themselves (the HTTP
    API passes ``api:<token name>``); the ledger records both.

    Raises:
        ContentError: the item is not in the ledger, or ``by`` is empty.
    """
    who = _who(by)
    return ledger.decide_review(item_id, _revision(ledger, item_id, revision), _locale(locale), approve=True,
                                reviewer=who, actor=actor)


def reject_review(ledger: Ledger, item_id: str, locale: str, *, by: str, reason: str, revision: int | None = None,
                  actor: str | None = None) -> list[Publication]:
    """Cancel the publications of ``item_id`` in ``locale`` that wait for review, with ``reason``.

    To publish a corrected text instead, submit a new revision with a human translation for the
    locale (``overrides.locales``): unchanged machine fields come from the cache.

    Raises:
        ContentError: the item is not in the ledger, or ``by`` or ``reason`` is empty.
    """
    who = _who(by)
    if not (reason or "").strip():
        raise ContentError("a rejection needs a reason", item_id=item_id)
    return ledger.decide_review(item_id, _revision(ledger, item_id, revision), _locale(locale), approve=False,
                                reviewer=who, reason=reason.strip(), actor=actor)


def _cells(text: str) -> int:
    """Terminal columns ``text`` takes (wide East Asian characters take two)."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        if not para.strip():
            lines.append("")
            continue
        wrapped = textwrap.wrap(para, width=width, break_long_words=True, break_on_hyphens=False)
        # textwrap counts code points: re-wrap lines of wide characters by columns.
        for line in wrapped:
            while _cells(line) > width:
                cut = width
                while cut > 1 and _cells(line[:cut]) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
            lines.append(line)
    return lines


def format_review(review: Review, *, width: int = 100) -> str:
    """``review`` as text for a terminal: each field's source and localized text side by side.

    Control, bidirectional and other characters a terminal would act on (a machine translation
    may hold them) are shown as ``<U+XXXX>`` (see :mod:`syndicate.base.terminal`), never printed raw.
    """
    col = max(24, (width - 3) // 2)
    out = [f"{review.item_id} revision {review.revision}: {review.source_locale} → {review.locale}"
           f"{' (right to left)' if review.rtl else ''}",
           f"localization: {review.state}, engine {review.engine or '-'}"]
    if review.error:
        out.append(f"error: {review.error}")
    for w in review.warnings:
        out.append(f"warning: {w}")
    states: dict[str, int] = {}
    for p in review.publications:
        states[p.state] = states.get(p.state, 0) + 1
    out.append("publications: " + (", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none"))
    if review.refused:
        out.append(f"held: the engine damaged the protected spans, whole and in pieces; its refused answer is "
                   f"shown on the right. Nothing was published in {review.locale}. Ways forward: a revision with "
                   f"a human translation (overrides.locales.{review.locale}), or, once the engine is fixed, "
                   f"syndicate replay --item {review.item_id} --localizations")
    for f in review.fields:
        kind = f"{f.kind}, in pieces" if f.strategy == "split" else f.kind
        shown, right_head = f.localized, review.locale
        if f.answer is not None and not f.localized:
            kind, shown, right_head = "refused", f.answer, f"{review.locale}: the engine's answer, not published"
        out.append("")
        out.append(f"== {f.name} [{kind}] " + "=" * max(0, col * 2 - len(f.name) - len(kind) - 6))
        left, right = _wrap(printable(f.source), col), _wrap(printable(shown), col)
        out.append(f"{review.source_locale:<{col}} | {right_head}")
        for i in range(max(len(left), len(right))):
            a = left[i] if i < len(left) else ""
            b = right[i] if i < len(right) else ""
            out.append(a + " " * (col - _cells(a)) + " | " + b)
    joined = review.refused.get("*")
    if joined is not None:
        out.append("")
        out.append("== the engine's answer for all fields, joined (refused, not published) " + "=" * 10)
        out.extend(_wrap(printable(joined), col * 2))
    if review.awaiting:
        out.append("")
        out.append(f"{len(review.awaiting)} publication(s) await review: syndicate approve {review.item_id} "
                   f"--locale {review.locale} --by NAME, or syndicate reject {review.item_id} --locale "
                   f"{review.locale} --reason TEXT")
    return printable("\n".join(out))
