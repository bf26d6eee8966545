"""The strict readers and values that are not data: lone surrogates, non-finite numbers, a second
byte-order mark; and the line of every JSON value."""

from __future__ import annotations

import json

import pytest

from syndicate.base.inputs import InputError, line_of, load_json, load_yaml, value_problems
from tests.cpu import cpu_seconds


def test_json_values_keep_their_lines() -> None:
    text = '{\n  "a": 1,\n  "b": [\n    {"c": "x\\n\\\\\\"}"}, 2,\n    [3, {"d": null}]\n  ],\n  "e": {}\n}'
    doc = load_json(text, "f.json")
    assert doc.data["b"][0]["c"] == 'x\n\\"}'
    assert line_of(doc, ("a",)) == 2
    assert line_of(doc, ("b",)) == 3
    assert line_of(doc, ("b", 0, "c")) == 4
    assert line_of(doc, ("b", 1)) == 4
    assert line_of(doc, ("b", 2, 1, "d")) == 5
    assert line_of(doc, ("e",)) == 7
    assert line_of(doc, ("e", "missing")) == 7


def test_json_lines_match_the_yaml_lines_of_the_same_item() -> None:
    data = {"id": "x", "tags": ["a", "b"], "overrides": {"locales": {"de-DE": {"title": "T", "body": "B"}}}}
    doc = load_json(json.dumps(data, indent=2), "i.json")
    text = json.dumps(data, indent=2).splitlines()
    for path in (("id",), ("tags", 1), ("overrides", "locales", "de-DE", "body")):
        line = line_of(doc, path)
        assert line is not None and json.dumps(path[-1] if isinstance(path[-1], str) else "b") in text[line - 1]


@pytest.mark.parametrize(("text", "field", "line"), [
    ('{"a": {"b": "\\ud800"}}', "a.b", 1),
    ('{\n"a": [\n"ok", "\\udc00x"]}', "a.1", 3),
    ('{"k\\ud800": 1}', "k\\ud800", 1),
])
def test_json_refuses_a_lone_surrogate_naming_the_field_and_line(text: str, field: str, line: int) -> None:
    with pytest.raises(InputError) as err:
        load_json(text.encode(), "s.json")
    assert err.value.field == field and err.value.line == line
    assert "lone surrogate" in err.value.reason
    str(err.value).encode("utf-8")  # printable: the surrogate in a key is shown escaped


def test_yaml_refuses_a_lone_surrogate_from_an_escape() -> None:
    with pytest.raises(InputError) as err:
        load_yaml(b'a: 1\nb:\n  c: "x \\ud800"\n', "s.yaml")
    assert (err.value.field, err.value.line) == ("b.c", 3)
    assert str(err.value) == ('s.yaml:3: b.c: contains the lone surrogate U+D800 (an unpaired \\ud800 escape), which '
                              'is not a character')


def test_json_refuses_numbers_too_large_to_be_finite_naming_the_field() -> None:
    with pytest.raises(InputError) as err:
        load_json(b'{"a":\n  {"b": [1, -1e999]}}', "n.json")
    assert (err.value.field, err.value.line) == ("a.b.1", 2)
    assert "is not a finite number (-inf)" in err.value.reason


@pytest.mark.parametrize("loader", [load_json, load_yaml])
def test_a_second_byte_order_mark_is_refused(loader: object) -> None:
    with pytest.raises(InputError, match="more than one byte-order mark"):
        loader(b"\xef\xbb\xbf\xef\xbb\xbf{}", "b")  # type: ignore[operator]
    assert loader(b"\xef\xbb\xbf{}", "b").data == {}  # type: ignore[operator]


def test_value_problems_finds_every_problem_in_python_data_in_order() -> None:
    data = {"a": "\ud800", "b": [1.0, float("inf")], "c": {"d\udfff": 1}, "e": float("nan"), "ok": "text"}
    found = value_problems(data)
    assert [p for p, _ in found] == [("a",), ("b", 1), ("c", "d\\udfff"), ("e",)]


def test_value_problems_stops_at_the_nesting_limit() -> None:
    deep: object = "x"
    for _ in range(40):
        deep = [deep]
    [(path, reason)] = value_problems({"a": deep})
    assert reason == "nesting deeper than 32 levels" and len(path) == 32


def test_json_lines_are_found_only_when_asked_for_in_linear_time() -> None:
    # Given 50,000 small objects (dense tokens: the scanner's worst case)
    text = json.dumps({"a": [{"b": i, "c": "x"} for i in range(50_000)]})
    # When it is read, and then a line is asked for
    doc = load_json(text, "big.json")
    assert doc.lines == {}
    scan = cpu_seconds(lambda: line_of(doc, ("a", 49_999, "c")), repeat=1)
    assert line_of(doc, ("a", 49_999, "c")) == 1
    # Then finding every line costs a small multiple of one linear Python pass over the text
    linear = cpu_seconds(lambda: sum(1 for c in text if c == "{"))
    assert len(doc.lines) == 2 + 3 * 50_000
    assert scan < 40 * linear, (scan, linear)
