"""UTM tagging keeps the rest of the URL byte for byte."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from syndicate.attribution import tag_url, utm_for

UTM = utm_for(source="x", medium="social", campaign="launch 2026", content="item-1.de-DE.x-dach.0")

_chars = st.sampled_from([*"abcXYZ019-._~%20+/:@!$'()*,;=", "%E2%9C%93", "ü", "é"])
segment = st.lists(_chars, max_size=12).map("".join)
key = st.lists(st.sampled_from([*"abkq_", "utm_source"]), min_size=1, max_size=3).map("".join)
param = st.builds(lambda k, v, eq: f"{k}={v}" if eq else k, key, segment, st.booleans())


@st.composite
def urls(draw: st.DrawFn) -> str:
    host = draw(st.sampled_from(["example.com", "sub.example.co.uk", "127.0.0.1:8080", "xn--bcher-kva.example"]))
    path = "/" + "/".join(draw(st.lists(segment, max_size=3)))
    query = "&".join(draw(st.lists(param, max_size=4)))
    frag = draw(st.one_of(st.none(), segment))
    url = f"https://{host}{path}"
    if query or draw(st.booleans()):
        url += "?" + query
    if frag is not None:
        url += "#" + frag
    return url


def test_utm_goes_before_the_fragment() -> None:
    assert tag_url("https://ex.com/a?b=1#top", {"utm_source": "x"}) == "https://ex.com/a?b=1&utm_source=x#top"


def test_values_are_percent_encoded() -> None:
    assert tag_url("https://ex.com/", {"utm_campaign": "launch 2026/ü&x"}) == (
        "https://ex.com/?utm_campaign=launch%202026%2F%C3%BC%26x")


def test_existing_utm_keys_are_replaced_not_duplicated() -> None:
    assert tag_url("https://ex.com/?utm_source=old&a=1", {"utm_source": "x"}) == "https://ex.com/?a=1&utm_source=x"


@given(urls())
def test_everything_but_our_parameters_is_preserved_byte_for_byte(url: str) -> None:
    tagged = tag_url(url, UTM)
    base, _, frag = url.partition("#")
    t_base, _, t_frag = tagged.partition("#")
    # the fragment and everything before the query are untouched
    assert t_frag == frag
    assert t_base.split("?", 1)[0] == base.split("?", 1)[0]
    # the original query's other parameters appear in order, unchanged, first
    orig = [p for p in (base.split("?", 1)[1] if "?" in base else "").split("&") if p]
    kept = [p for p in orig if p.split("=", 1)[0] not in UTM]
    new_query = t_base.split("?", 1)[1].split("&")
    assert new_query[: len(kept)] == kept
    # and our parameters decode to exactly what we set
    ours = dict(parse_qsl("&".join(new_query[len(kept):])))
    assert ours == UTM
    assert urlsplit(tagged).hostname == urlsplit(url).hostname
