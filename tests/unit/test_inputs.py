"""Strict YAML and JSON readers: what they refuse, and the lines they report."""

from __future__ import annotations

import pytest

from syndicate.base.inputs import InputError, line_of, load_json, load_yaml


def test_yaml_values_keep_their_lines() -> None:
    doc = load_yaml(b"a: 1\nb:\n  c: [x, y]\n  d: text\n", "f.yaml")
    assert doc.data == {"a": 1, "b": {"c": ["x", "y"], "d": "text"}}
    assert line_of(doc, ("b", "d")) == 4
    assert line_of(doc, ("b", "c", 1)) == 3
    assert line_of(doc, ("b", "missing", "deeper")) == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: &x 1\nb: *x\n", "anchors"),
        ("base: {a: 1}\nb:\n  <<: {a: 2}\n", "merge keys"),
        ("a: !!python/object:os.system x\n", "explicit tags"),
        ("a: !!str 1\n", "explicit tags"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("a: 1\n---\nb: 2\n", "single document"),
        ("a: .nan\n", "NaN"),
        ("a: [1, 2\n", "invalid YAML"),
    ],
)
def test_yaml_refuses_what_configs_never_need(text: str, reason: str) -> None:
    with pytest.raises(InputError) as err:
        load_yaml(text.encode(), "bad.yaml")
    assert reason in str(err.value)
    assert str(err.value).startswith("bad.yaml")


def test_yaml_error_names_the_line() -> None:
    with pytest.raises(InputError) as err:
        load_yaml(b"a: 1\nb: 2\nb: 3\n", "dup.yaml")
    assert err.value.line == 3
    assert str(err.value).startswith("dup.yaml:3:")


def test_yaml_billion_laughs_is_refused_before_expansion() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    with pytest.raises(InputError, match="anchors"):
        load_yaml(bomb.encode(), "bomb.yaml")


def test_yaml_uses_the_1_2_core_schema_for_booleans_and_dates() -> None:
    doc = load_yaml(b"no: no\nyes: on\nt: true\nd: 2026-01-01\ndt: 2026-01-01T10:00:00Z\nn: ~\n", "s.yaml")
    assert doc.data == {"no": "no", "yes": "on", "t": True, "d": "2026-01-01", "dt": "2026-01-01T10:00:00Z",
                        "n": None}


def test_quoted_scalars_stay_strings() -> None:
    assert load_yaml(b"a: '1'\nb: \"true\"\n", "q.yaml").data == {"a": "1", "b": "true"}


def test_invalid_utf8_is_refused_with_its_offset() -> None:
    with pytest.raises(InputError, match=r"not valid UTF-8 \(byte 0xff at offset 8\)") as err:
        load_yaml(b"a: 1\nb: \xff\n", "latin.yaml")
    assert err.value.line == 2


def test_control_characters_are_refused() -> None:
    with pytest.raises(InputError, match="U\\+0007"):
        load_yaml(b"a: bell\x07\n", "c.yaml")


def test_size_limit_is_enforced_before_parsing() -> None:
    with pytest.raises(InputError, match="more than the limit of 10"):
        load_yaml(b"a: 12345678901\n", "big.yaml", max_bytes=10)


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(InputError, match="nesting"):
        load_yaml(("[" * 40 + "]" * 40).encode(), "deep.yaml")
    with pytest.raises(InputError, match="nesting"):
        load_json(("[" * 40 + "]" * 40).encode(), "deep.json")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": NaN}', "not valid JSON"),
        ('{"a": Infinity}', "not valid JSON"),
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"a": 1, /* c */ "b": 2}', "invalid JSON"),
        ('{"a": 1,}', "invalid JSON"),
    ],
)
def test_json_is_strict(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        load_json(text.encode(), "x.json")


def test_json_bom_is_accepted() -> None:
    assert load_json(b'\xef\xbb\xbf{"a": 1}', "bom.json").data == {"a": 1}
