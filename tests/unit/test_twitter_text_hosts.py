"""The linear-time URL extractor finds exactly what twitter-text's backtracking pattern finds.

The reference pattern is rebuilt here from the module's fragments, as the reference implementation
writes it (nested label quantifiers, tried at every position); on short texts it is fast enough to
serve as the oracle. The texts mix the pieces where the two could disagree: dots, hyphens and
underscores in labels, top-level domains that prefix one another, punycode, schemes, ports, paths,
queries, characters that may or may not precede a URL, and case-folding traps (KELVIN SIGN, LONG S).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import twitter_text as tt

_SUBDOMAIN = f"(?:(?:{tt._DOMAIN_CHAR}(?:[_-]|{tt._DOMAIN_CHAR})*)?{tt._DOMAIN_CHAR}\\.)"
_DOMAIN_NAME = f"(?:(?:{tt._DOMAIN_CHAR}(?:-|{tt._DOMAIN_CHAR})*)?{tt._DOMAIN_CHAR}\\.)"
_TLDS = f"(?:{tt._GTLD}|{tt._CCTLD}|{tt._PUNYCODE_TLD})"
_PRECEDING = f"(?:[^A-Za-z0-9@＠$#＃{tt._INVALID_CHARS}]|[{tt._DIRECTIONAL}]|^)"
REFERENCE = re.compile(
    f"(({_PRECEDING})((https?://)?((?:{_SUBDOMAIN}*{_DOMAIN_NAME}{_TLDS}))(?::([0-9]+))?(/{tt._PATH}*)?"
    f"(\\?{tt._QUERY_CHAR}*{tt._QUERY_END})?))", re.IGNORECASE)
REFERENCE_ASCII_DOMAIN = re.compile(f"(?:(?:[\\-a-z0-9{tt._LATIN_ACCENTS}]+)\\.)+{_TLDS}", re.IGNORECASE)


def _host_ok(domain: str) -> bool:
    if domain[:4] == "xn--" and not REFERENCE_ASCII_DOMAIN.search(domain):
        return False
    for label in domain.split("."):
        n = tt._punycode_label_length(label)
        if n is None or n < 1 or n > tt._MAX_LABEL_LENGTH:
            return False
    return True


def reference_urls(text: str) -> list[tuple[str, int, int]]:
    """URL extraction as the reference implementation does it (every position tried)."""
    found: list[list[object]] = []
    resume = 0
    for p in range(len(text)):
        m = REFERENCE.match(text, p) if p >= resume else None
        if m is None:
            continue
        resume = m.end()
        before, url, scheme, domain, path = m.group(2), m.group(3), m.group(4), m.group(5), m.group(7)
        start, end = m.start(3), m.end(3)
        if not _host_ok(domain) or tt._utf16_len(scheme or "https://") + tt._utf16_len(url) > tt._MAX_URL_LENGTH:
            continue
        if not scheme:
            if re.search(r"[-_./]\Z", before):
                continue
            last: list[object] | None = None
            ascii_end = 0
            for am in REFERENCE_ASCII_DOMAIN.finditer(domain):
                a_start = domain.find(am.group(0), ascii_end)
                ascii_end = a_start + len(am.group(0))
                last = [am.group(0), start + a_start, start + ascii_end]
                found.append(last)
            if last is not None and path:
                last[0], last[2] = url.replace(domain, str(last[0]), 1), end
        else:
            tco = tt._TCO.match(url)
            if tco is not None:
                if len(tco.group(1)) > tt._MAX_TCO_SLUG_LENGTH:
                    continue
                url, end = tco.group(0), start + len(tco.group(0))
            found.append([url, start, end])
    return [(str(u), int(str(s)), int(str(e))) for u, s, e in found]


PIECES = ["a", "B", "ab", "x1", ".", ".", ".", "-", "_", "/", ":", "http://", "https://", "HTTPS://", "www",
          "com", "co", "jp", "cat", "xn--p1ai", "xn--", "中", "国", "香港", " ", "@", "#", "(", ")", "?", "=", "é",
          "\u202a", "\u212a", "\u017f", '"', "1", "t.co/", "!", "&", "$", "\u3002", "\u0301", "example", "ab_c",
          ":80", "\n", "ｃｏｍ", "＠", "–", "a" * 64]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=16).map("".join))
def test_extracted_urls_are_those_of_the_reference_pattern(text: str) -> None:
    # Given a text mixing the pieces of hosts, schemes, paths and their neighbours
    # When both extractors read it / Then they find the same URLs at the same offsets
    assert [(e.url, e.start, e.end) for e in tt._find_urls(text)] == reference_urls(text)


def test_a_host_is_the_longest_run_of_labels_followed_by_a_top_level_domain() -> None:
    # Given labels where a top-level domain follows several dots, and labels with '_' or leading '-'
    cases = ["see a.com.b.co.uk.x now", "a_b.c.com", "a.b_c.com", "-a.com", "a-.com", "a.com.com.xyz"]
    # When extracted / Then each matches the reference
    for text in cases:
        assert [(e.url, e.start, e.end) for e in tt._find_urls(text)] == reference_urls(text), text
