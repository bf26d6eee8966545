"""Hypothesis strategies for the text that real posts hold.

Emoji ZWJ sequences, flags (regional indicators and tag sequences), skin tones, keycaps, CJK,
combining marks (Latin, Devanagari, Thai, Hangul jamo), right-to-left scripts with their marks
and directional controls, URLs (with and without a scheme), @mentions, #hashtags and ``<x id="N"/>``
placeholders, mixed with plain words and sentence punctuation.

:func:`post_texts` draws a text together with the spans of the tokens that must never be cut
(URLs, mentions, hashtags, placeholders): those tokens are always separated from their neighbours
by whitespace, so that what they are does not depend on what the generator put next to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

__all__ = [
    "GeneratedText",
    "cjk",
    "combining_sequences",
    "emoji",
    "flags",
    "hashtags",
    "keycaps",
    "links",
    "mentions",
    "placeholders",
    "post_texts",
    "rtl",
    "schemeless_urls",
    "skin_toned",
    "urls",
    "words",
    "zwj_sequences",
]

ZWJ = "\u200d"
VS16 = "\ufe0f"
SKIN_TONES = [chr(c) for c in range(0x1F3FB, 0x1F400)]
MODIFIER_BASES = ["👍", "👋", "🙋", "💃", "🧕", "👩", "👨", "🧑", "👶", "✌"]
ZWJ_PARTS = ["👨", "👩", "👧", "👦", "🧑", "💻", "🚀", "🎤", "🔥", "🦰", "🦳", "❤" + VS16, "🏳" + VS16, "🌈", "🐱", "👤"]
TAG_FLAGS = ["🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # England
             "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland
             "🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"]  # Wales
REGIONAL = [chr(c) for c in range(0x1F1E6, 0x1F200)]
TLDS = ["com", "org", "net", "de", "fr", "jp", "io", "co.uk", "com.br"]


def zwj_sequences() -> st.SearchStrategy[str]:
    """Emoji joined by zero-width joiners: families, professions, and combinations X never heard of."""
    return st.lists(st.sampled_from(ZWJ_PARTS), min_size=2, max_size=5).map(ZWJ.join)


def skin_toned() -> st.SearchStrategy[str]:
    """A modifier base with a Fitzpatrick skin tone (sometimes a stray second tone)."""
    return st.builds(lambda b, t, extra: b + t + extra, st.sampled_from(MODIFIER_BASES), st.sampled_from(SKIN_TONES),
                     st.sampled_from(["", "", "", *SKIN_TONES[:1]]))


def flags() -> st.SearchStrategy[str]:
    """Regional-indicator pairs (real flags and unassigned pairs) and tag-sequence flags."""
    return st.one_of(st.builds(lambda a, b: a + b, st.sampled_from(REGIONAL), st.sampled_from(REGIONAL)),
                     st.sampled_from(TAG_FLAGS))


def keycaps() -> st.SearchStrategy[str]:
    """Keycap sequences, with and without the variation selector."""
    return st.builds(lambda c, vs: c + vs + "\u20e3", st.sampled_from("#*0123456789"), st.sampled_from(["", VS16]))


def emoji() -> st.SearchStrategy[str]:
    """Any of the emoji shapes above, or a single emoji code point."""
    return st.one_of(zwj_sequences(), skin_toned(), flags(), keycaps(),
                     st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF, categories=("So",)))


def cjk() -> st.SearchStrategy[str]:
    """Chinese, Japanese and Korean runs, with their punctuation, no spaces."""
    alphabet = st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
                         st.characters(min_codepoint=0x3041, max_codepoint=0x3096),
                         st.characters(min_codepoint=0x30A1, max_codepoint=0x30FA),
                         st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
                         st.sampled_from(list("。、！？「」（）")))
    return st.text(alphabet=alphabet, min_size=1, max_size=40)


def combining_sequences() -> st.SearchStrategy[str]:
    """Letters with stacked combining marks, Devanagari conjuncts, Thai with tone marks, Hangul jamo."""
    latin = st.builds(lambda base, marks: base + "".join(marks), st.sampled_from(list("aeiouAEIOUnszc")),
                      st.lists(st.characters(min_codepoint=0x300, max_codepoint=0x36F), min_size=1, max_size=4))
    return st.one_of(latin, st.sampled_from(["क्षि", "स्त्री", "नमस्ते", "ที่นั่น", "น้ำ", "\u1100\u1161\u11a8",
                                              "e\u0301", "A\u030a", "\u0915\u094d\u200d"]))


def rtl() -> st.SearchStrategy[str]:
    """Arabic and Hebrew words (with vowel marks), Urdu, and bidirectional controls around them."""
    words_ = st.sampled_from(["مرحبا", "بالعالم", "العربيّة", "شُكْرًا", "שלום", "עוֹלָם", "پاکستان", "اردو۔",
                              "مرحبا؟", "٣٤٥"])
    controls = st.sampled_from(["", "", "\u200f", "\u200e", "\u2067", "\u2069", "\u202b", "\u202c", "\u061c"])
    return st.builds(lambda a, w, b: a + w + b, controls, words_, controls)


def urls() -> st.SearchStrategy[str]:
    """http(s) URLs with paths, UTM-style queries and fragments, ending as links in text do."""
    label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
    path = st.lists(st.from_regex(r"[A-Za-z0-9_~-]{1,12}", fullmatch=True), max_size=4).map(
        lambda segs: "/" + "/".join(segs) if segs else "")
    query = st.lists(st.tuples(st.from_regex(r"[a-z_]{1,10}", fullmatch=True),
                               st.from_regex(r"[A-Za-z0-9_.-]{0,12}[A-Za-z0-9]", fullmatch=True)),
                     max_size=5).map(lambda kv: "?" + "&".join(f"{k}={v}" for k, v in kv) if kv else "")
    fragment = st.sampled_from(["", "", "#top", "#section-2"])
    return st.builds(lambda scheme, host, tld, p, q, f: f"{scheme}://{host}.{tld}{p}{q}{f}",
                     st.sampled_from(["https", "http"]), label, st.sampled_from(TLDS), path, query, fragment)


def links() -> st.SearchStrategy[str]:
    """A tagged link as the pipeline hands it to a channel: https, UTM parameters, maybe a fragment."""
    return st.builds(
        lambda base, campaign, content, frag: (f"{base}?utm_source=x&utm_medium=social&utm_campaign={campaign}"
                                               f"&utm_content={content}{frag}"),
        urls().map(lambda u: u.split("?")[0].split("#")[0]),
        st.from_regex(r"[a-z0-9-]{1,30}", fullmatch=True), st.from_regex(r"[a-z0-9.-]{1,40}[a-z0-9]", fullmatch=True),
        st.sampled_from(["", "#top"]))


def schemeless_urls() -> st.SearchStrategy[str]:
    """Domains X links without a scheme (``example.com/path``)."""
    return st.builds(lambda host, tld, p: f"{host}.{tld}{p}", st.from_regex(r"[a-z][a-z0-9]{0,12}", fullmatch=True),
                     st.sampled_from(["com", "de", "io"]), st.sampled_from(["", "/docs", "/a/b"]))


def mentions() -> st.SearchStrategy[str]:
    """@handles."""
    return st.from_regex(r"@[A-Za-z0-9_]{1,15}", fullmatch=True)


def hashtags() -> st.SearchStrategy[str]:
    """#hashtags in Latin, Cyrillic, CJK and Arabic letters."""
    head = st.one_of(st.characters(min_codepoint=0x41, max_codepoint=0x5A), st.sampled_from(list("éßжя日本한مש")))
    tail = st.text(alphabet=st.one_of(st.characters(min_codepoint=0x61, max_codepoint=0x7A),
                                      st.sampled_from(list("0123456789_éжя日本한م"))), max_size=15)
    return st.builds(lambda h, t: "#" + h + t, head, tail)


def placeholders() -> st.SearchStrategy[str]:
    """Masking placeholders, as a translation engine hands them back."""
    return st.integers(min_value=0, max_value=99).map(lambda n: f'<x id="{n}"/>')


def words() -> st.SearchStrategy[str]:
    """Plain words and punctuation in several scripts, and a few long unbroken tokens."""
    return st.one_of(
        st.from_regex(r"[A-Za-z]{1,12}", fullmatch=True),
        st.sampled_from(["Grüße", "naïve", "Ελληνικά", "русский", "déjà", "co-op", "e.g.", "3.14", "—", "–", "&",
                         "(see", "below)", "\"quoted\"", "it's", "l'été", "Donaudampfschifffahrtsgesellschaft"]),
        st.from_regex(r"[a-z]{30,90}", fullmatch=True),
    )


_SPACED = [" ", "\n", "\n\n"]
_ANY_SEPARATOR = [" ", " ", "\n", "\n\n", "", "  "]
_SENTENCE_ENDS = st.sampled_from([".", "!", "?", "…", "。", "！", "？", "؟", "।", ".\"", "?)"])


@dataclass(frozen=True)
class GeneratedText:
    """A drawn text and the spans of its tokens that must never be cut."""

    text: str
    protected: tuple[tuple[int, int], ...]


@st.composite
def post_texts(draw: st.DrawFn, max_tokens: int = 60) -> GeneratedText:
    """A text mixing every kind of token above, with the spans of its protected tokens."""
    plain = st.one_of(words(), emoji(), cjk(), combining_sequences(), rtl(), schemeless_urls(),
                      _SENTENCE_ENDS, st.text(max_size=6).filter(lambda t: "\x00" not in t))
    protected_kind = st.one_of(urls(), mentions(), hashtags(), placeholders())
    token = st.one_of(plain.map(lambda t: (False, t)), protected_kind.map(lambda t: (True, t)))
    tokens = draw(st.lists(token, max_size=max_tokens))
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    previous_protected = False
    for i, (is_protected, text) in enumerate(tokens):
        if i:
            spaced = is_protected or previous_protected
            sep = draw(st.sampled_from(_SPACED if spaced else _ANY_SEPARATOR))
            out.append(sep)
            pos += len(sep)
        if is_protected:
            spans.append((pos, pos + len(text)))
        out.append(text)
        pos += len(text)
        previous_protected = is_protected
    return GeneratedText("".join(out), tuple(spans))
