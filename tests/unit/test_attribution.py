"""UTM tagging replaces our parameters in place and keeps every other byte of the URL."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.intake.attribution import tag_url, utm_for

UTM = utm_for(source="x", medium="social", campaign="launch 2026", content="item-1.r2.de-DE.x-dach.0")
P = {"utm_source": "x", "utm_medium": "social"}
T = "utm_source=x&utm_medium=social"

# (url, tagged with P): every case named in the rules, and the corners around them.
TABLE = [
    # where the query goes
    ("https://ex.com", f"https://ex.com?{T}"),
    ("https://ex.com/", f"https://ex.com/?{T}"),
    ("https://ex.com/a?", f"https://ex.com/a?{T}"),
    ("https://ex.com/a?#frag", f"https://ex.com/a?{T}#frag"),
    ("https://ex.com/a#frag", f"https://ex.com/a?{T}#frag"),
    ("https://ex.com/a#", f"https://ex.com/a?{T}#"),
    ("https://ex.com/a?b=1", f"https://ex.com/a?b=1&{T}"),
    # empty segments stay where they are
    ("https://ex.com/a?b=1&", f"https://ex.com/a?b=1&&{T}"),
    ("https://ex.com/a?a=1&&b=2", f"https://ex.com/a?a=1&&b=2&{T}"),
    ("https://ex.com/a?&a=1", f"https://ex.com/a?&a=1&{T}"),
    ("https://ex.com/a?utm_source=a&&utm_source=b&", "https://ex.com/a?utm_source=x&&&utm_medium=social"),
    # ours are replaced where they stand; the first occurrence wins, later ones go
    ("https://ex.com/a?utm_source=old&a=1", "https://ex.com/a?utm_source=x&a=1&utm_medium=social"),
    ("https://ex.com/a?a=1&utm_source=old&b=2", "https://ex.com/a?a=1&utm_source=x&b=2&utm_medium=social"),
    ("https://ex.com/a?utm_medium=email&utm_source=old", "https://ex.com/a?utm_medium=social&utm_source=x"),
    ("https://ex.com/a?utm_source=a&utm_source=b", f"https://ex.com/a?{T}"),
    ("https://ex.com/a?x=1&utm_medium=a&utm_medium=b&utm_medium=c", "https://ex.com/a?x=1&utm_medium=social&utm_source=x"),
    ("https://ex.com/a?utm_source=x&utm_medium=social", f"https://ex.com/a?{T}"),
    # names are compared decoded
    ("https://ex.com/a?utm%5Fsource=old", f"https://ex.com/a?{T}"),
    ("https://ex.com/a?utm%5fsource=old", f"https://ex.com/a?{T}"),
    ("https://ex.com/a?%75tm_source=old", f"https://ex.com/a?{T}"),
    ("https://ex.com/a?utm%5Fsource=a&b=1&utm_source=c", "https://ex.com/a?utm_source=x&b=1&utm_medium=social"),
    ("https://ex.com/a?utm_source", f"https://ex.com/a?{T}"),
    ("https://ex.com/a?utm%5Fsource", f"https://ex.com/a?{T}"),
    ("https://ex.com/a?utm_source=", f"https://ex.com/a?{T}"),
    # names that are not ours, though they look alike
    ("https://ex.com/a?utm+source=a", f"https://ex.com/a?utm+source=a&{T}"),
    ("https://ex.com/a?utm_source+=a", f"https://ex.com/a?utm_source+=a&{T}"),
    ("https://ex.com/a?utm%2Bsource=a", f"https://ex.com/a?utm%2Bsource=a&{T}"),
    ("https://ex.com/a?UTM_SOURCE=a", f"https://ex.com/a?UTM_SOURCE=a&{T}"),
    ("https://ex.com/a?utm_sourcex=a", f"https://ex.com/a?utm_sourcex=a&{T}"),
    ("https://ex.com/a?utm_campaign=keep", f"https://ex.com/a?utm_campaign=keep&{T}"),
    ("https://ex.com/a?%zz=1&=2&a==b", f"https://ex.com/a?%zz=1&=2&a==b&{T}"),
    # ';' separates nothing: it is part of a segment
    ("https://ex.com/a?a=1;utm_source=old", f"https://ex.com/a?a=1;utm_source=old&{T}"),
    ("https://ex.com/a?utm_source=old;a=1", f"https://ex.com/a?{T}"),
    # other bytes keep their spelling
    ("https://ex.com/a?q=a+b", f"https://ex.com/a?q=a+b&{T}"),
    ("https://ex.com/a?q=%2f%2F", f"https://ex.com/a?q=%2f%2F&{T}"),
    ("https://ex.com/a?q=%E2%9C%93", f"https://ex.com/a?q=%E2%9C%93&{T}"),
    ("https://ex.com/a?q=ü", f"https://ex.com/a?q=ü&{T}"),
    ("https://EX.com/A%2Fb?B=1&c=%7e", f"https://EX.com/A%2Fb?B=1&c=%7e&{T}"),
    # the fragment is never read, even when it holds '?', '&' or our names
    ("https://ex.com/a#frag?x=1&y=2", f"https://ex.com/a?{T}#frag?x=1&y=2"),
    ("https://ex.com/a?b=1#frag&utm_source=old", f"https://ex.com/a?b=1&{T}#frag&utm_source=old"),
    ("https://ex.com/a?utm_source=old#", f"https://ex.com/a?{T}#"),
    ("https://ex.com/a?b#c#d", f"https://ex.com/a?b&{T}#c#d"),
    # hosts, ports and userinfo are untouched
    ("https://user:pw@ex.com:8443/a?b=1", f"https://user:pw@ex.com:8443/a?b=1&{T}"),
    ("https://bücher.example/ä?x=1", f"https://bücher.example/ä?x=1&{T}"),
    ("https://xn--bcher-kva.example/", f"https://xn--bcher-kva.example/?{T}"),
    ("http://[::1]:8080/a", f"http://[::1]:8080/a?{T}"),
    ("http://127.0.0.1:8080", f"http://127.0.0.1:8080?{T}"),
]


@pytest.mark.parametrize(("url", "tagged"), TABLE)
def test_tagging_replaces_ours_in_place_and_keeps_every_other_byte(url: str, tagged: str) -> None:
    assert tag_url(url, P) == tagged
    # and tagging the result again changes nothing
    assert tag_url(tagged, P) == tagged


def test_the_table_covers_at_least_forty_cases() -> None:
    assert len(TABLE) >= 40


@pytest.mark.parametrize(("value", "encoded"), [
    ("launch 2026/ü&x", "launch%202026%2F%C3%BC%26x"),
    ("a+b=c#d%e?f", "a%2Bb%3Dc%23d%25e%3Ff"),
    ("keep-._~AZaz09", "keep-._~AZaz09"),
    ("日本", "%E6%97%A5%E6%9C%AC"),
    ("a;b,c:d@e!f'g(h)i*j", "a%3Bb%2Cc%3Ad%40e%21f%27g%28h%29i%2Aj"),
])
def test_values_are_percent_encoded_with_unreserved_characters_kept_and_upper_case_hex(value: str,
                                                                                        encoded: str) -> None:
    assert tag_url("https://ex.com/", {"utm_campaign": value}) == f"https://ex.com/?utm_campaign={encoded}"


def test_missing_parameters_are_appended_in_the_fixed_order_whatever_the_mapping_order() -> None:
    # Given parameters in another order than UTM_KEYS
    params = {"utm_id": "7", "utm_content": "c", "utm_source": "s", "utm_term": "t", "utm_campaign": "k",
              "utm_medium": "m"}
    # Then they are appended source, medium, campaign, content, term, id
    assert tag_url("https://ex.com/", params) == (
        "https://ex.com/?utm_source=s&utm_medium=m&utm_campaign=k&utm_content=c&utm_term=t&utm_id=7")


def test_a_parameter_we_leave_empty_is_neither_written_nor_removed() -> None:
    # Given no utm_term of ours and a URL that has one
    tagged = tag_url("https://ex.com/?utm_term=theirs", {"utm_source": "x", "utm_term": ""})
    # Then theirs stays and only ours is added
    assert tagged == "https://ex.com/?utm_term=theirs&utm_source=x"
    assert tag_url("https://ex.com/a?b#c", {}) == "https://ex.com/a?b#c"


# -- property: idempotent, and every byte that is not ours survives ---------------------------------------

_name = st.sampled_from(["a", "b", "q", "", "utm_source", "utm%5Fsource", "utm%5fsource", "%75tm_medium",
                         "utm_medium", "utm+source", "UTM_SOURCE", "utm_content", "utm_campaign", "%zz", "x+y"])
_value_chars = st.sampled_from([*"abcXYZ019-._~+/:@!$'()*,;=?", "%20", "%2f", "%E2%9C%93", "ü", "é", ""])
_value = st.lists(_value_chars, max_size=6).map("".join)
_segment = st.one_of(st.just(""), _name, st.builds(lambda n, v: f"{n}={v}", _name, _value))
_frag_chars = st.sampled_from([*"ab?&=#/", "utm_source=z", "%41"])


@st.composite
def urls(draw: st.DrawFn) -> str:
    host = draw(st.sampled_from(["ex.com", "sub.example.co.uk", "127.0.0.1:8080", "xn--bcher-kva.example",
                                 "bücher.example", "u:p@ex.com:8443", "[::1]"]))
    path = "/" + "/".join(draw(st.lists(st.sampled_from(["a", "%2F", "ä", "b;c", ""]), max_size=3)))
    url = f"https://{host}{path}"
    if draw(st.booleans()):
        url += "?" + "&".join(draw(st.lists(_segment, max_size=6)))
    if draw(st.booleans()):
        url += "#" + "".join(draw(st.lists(_frag_chars, max_size=5)))
    return url


def _split(url: str) -> tuple[str, str | None, str | None]:
    head, hash_, frag = url.partition("#")
    base, q, query = head.partition("?")
    return base, (query if q else None), (frag if hash_ else None)


def _name_of(segment: str) -> str:
    return unquote(segment.partition("=")[0].replace("+", " "))


@given(urls())
def test_tagging_twice_is_tagging_once(url: str) -> None:
    once = tag_url(url, UTM)
    assert tag_url(once, UTM) == once


@given(urls())
def test_every_byte_that_is_not_ours_survives_and_ours_appear_once_with_our_values(url: str) -> None:
    tagged = tag_url(url, UTM)
    base, query, frag = _split(url)
    t_base, t_query, t_frag = _split(tagged)
    # the part before the query and the fragment are untouched
    assert t_base == base and t_frag == frag
    # the segments that are not ours are the same, in the same order, empty ones included
    before = query.split("&") if query else []
    after = t_query.split("&") if t_query else []
    assert [s for s in before if _name_of(s) not in UTM] == [s for s in after if _name_of(s) not in UTM]
    # and each of ours appears exactly once, with our value
    ours = [s for s in after if _name_of(s) in UTM]
    assert sorted(_name_of(s) for s in ours) == sorted(UTM)
    assert {_name_of(s): unquote(s.partition("=")[2]) for s in ours} == UTM
