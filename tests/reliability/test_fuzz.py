"""Property-based fuzzing of the parsers and the renderers with hypothesis.

Parsers (``syndicate.base.inputs``, ``syndicate.model.item.parse_item``, ``syndicate.config.load_config``)
get arbitrary bytes, YAML- and JSON-shaped noise, and items with a field replaced by any JSON
value: each answers with its own error type (``InputError``, ``ContentError``, ``ConfigError``) or
a valid result, never anything else. Renderers (every adapter's ``render``) get valid items built
from the text real posts hold (emoji sequences, CJK, combining marks, right-to-left scripts, URLs,
mentions, hashtags) and hostile markup: each post is safe or refused with a ``ContentError``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from syndicate.base.inputs import InputError, load_json, load_yaml
from syndicate.config.loading import load_config
from syndicate.errors import ConfigError, ContentError
from syndicate.model.item import ContentItem, parse_item
from tests.helpers import item_data, sandbox_accounts, simple_route, write_config
from tests.reliability.safety import render_config, render_everywhere, unsafe
from tests.strategies import cjk, combining_sequences, emoji, hashtags, links, mentions, post_texts, urls, words

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RENDER = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_YAML_TOKENS = ["a", "id", "b", ":", ": ", " ", "  ", "\n", "\n  ", "- ", "[", "]", "{", "}", ",", "&x ", "*x",
                "!!str ", "!!python/object:os.system ", "!t ", "<<", "? ", "|", ">", "'", '"', "#", "---", "...",
                "%YAML 1.2\n", "\t", "1e400", ".nan", "-.inf", "0x1f", "0o7", "9" * 50, "true", "no", "~", "null",
                "\x00", "\x07", "\u202e", "\ufeff", "\u2028", "é", "日本", "\\", "@", "`", "%"]
_JSON_TOKENS = ["{", "}", "[", "]", ",", ":", '"a"', '"id"', "1", "-0", "1e400", "NaN", "Infinity", "true", "null",
                '"\\u0000"', '"\\ud800"', " ", "\n", "/*", "*/", "'", "9" * 30, "0.5", '"é"']


def _yamlish() -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(_YAML_TOKENS), max_size=60).map(lambda t: "".join(t).encode("utf-8"))


def _jsonish() -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(_JSON_TOKENS), max_size=60).map(lambda t: "".join(t).encode("utf-8"))


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8),
                                                                                            inner, max_size=4),
                        max_leaves=12)


# -- parsers ------------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=400) | _yamlish())
def test_the_yaml_reader_answers_any_bytes_with_a_document_or_an_input_error(raw: bytes) -> None:
    try:
        load_yaml(raw, "fuzz.yaml")
    except InputError as exc:
        assert exc.source == "fuzz.yaml" and exc.reason


@FUZZ
@given(st.binary(max_size=400) | _jsonish())
def test_the_json_reader_answers_any_bytes_with_a_document_or_an_input_error(raw: bytes) -> None:
    try:
        load_json(raw, "fuzz.json")
    except InputError as exc:
        assert exc.source == "fuzz.json" and exc.reason


@FUZZ
@given(_json_values())
def test_parse_item_answers_any_value_with_an_item_or_a_content_error(value: Any) -> None:
    try:
        assert isinstance(parse_item(value, source="fuzz"), ContentItem)
    except ContentError as exc:
        assert str(exc)


@FUZZ
@given(st.sampled_from(sorted(item_data())), _json_values())
def test_parse_item_answers_an_item_with_any_field_replaced_with_an_item_or_an_error_naming_it(
    field: str, value: Any
) -> None:
    data = item_data()
    data[field] = value
    try:
        parse_item(data, source="fuzz")
    except ContentError as exc:
        assert field in str(exc) or "not approved" in str(exc)


_CONFIG_DIR = Path(tempfile.mkdtemp(prefix="syndicate-fuzz-"))


@FUZZ
@given(st.sampled_from(["settings.yaml", "accounts.yaml", "routes/test.yaml"]),
       _yamlish() | _json_values().map(lambda v: yaml.safe_dump(v).encode("utf-8")) | st.binary(max_size=200))
def test_load_config_answers_any_file_content_with_a_config_or_a_config_error(name: str, raw: bytes) -> None:
    d = write_config(_CONFIG_DIR / "c", accounts=sandbox_accounts("sandbox-a"),
                     routes=[simple_route("test", ["en-US"], ["sandbox-a"])])
    (d / name).write_bytes(raw)
    try:
        load_config(d, environ={})
    except ConfigError as exc:
        assert exc.problems and all(p.path for p in exc.problems)
    finally:
        (d / name).unlink()


# -- renderers ----------------------------------------------------------------------------------

_RENDER_CFG = render_config(Path(tempfile.mkdtemp(prefix="syndicate-fuzz-render-")) / "config")
_MARKUP = st.sampled_from(["<script>alert(1)</script>", '<img src=x onerror="alert(1)">',
                           '<a href="javascript:alert(1)">x</a>', "<style>*{}</style>", "[x](javascript:alert(1))",
                           "<iframe src=//evil.example>", "&lt;b&gt;", "&amp;", "<", ">", "\"'"])


def _text(max_tokens: int) -> st.SearchStrategy[str]:
    token = words() | emoji() | cjk() | combining_sequences() | urls() | mentions() | hashtags() | _MARKUP
    return st.lists(token, min_size=1, max_size=max_tokens).map(" ".join)


@RENDER
@given(title=_text(8), summary=post_texts().map(lambda g: g.text) | _text(40), body=_text(80),
       html=st.booleans(), tags=st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True), max_size=5,
                                         unique_by=str.casefold),
       canonical=links().map(lambda u: u.split("?")[0]), cta=st.none() | _text(4))
def test_every_adapter_renders_any_valid_item_safely_or_refuses_it(
    title: str, summary: str, body: str, html: bool, tags: list[str], canonical: str, cta: str | None
) -> None:
    data = item_data(title=title[:300], summary=summary[:5000], body=body, body_format="html" if html else "markdown",
                     tags=tags, canonical_url=canonical, cta={"text": cta[:200], "url": canonical} if cta else None)
    try:
        item = parse_item(data)
    except ContentError:
        assume(False)
        return
    posts = list(render_everywhere(_RENDER_CFG, item))
    assert {p.account: unsafe(p) for p in posts if unsafe(p)} == {}

