"""The bad-input corpus: malformed and hostile items and configuration files, built in code.

Each :class:`ItemCase` is the raw bytes a producer could send (YAML or JSON) and what must come
of it: ``refused`` (an ``InvalidItem`` naming the source, the field when there is one, and the
reason) or ``accepted`` (the item is valid, and every channel renders it safely: sanitized HTML,
no control characters, the link intact). Each :class:`ConfigCase` is one file of a config
directory replaced by hostile content; it must be refused with a ``ConfigError`` whose problems
name the file and, where there is one, the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from tests.helpers import item_data

__all__ = ["CONFIG_CASES", "ITEM_CASES", "ConfigCase", "ItemCase"]


@dataclass(frozen=True)
class ItemCase:
    """One hostile item: its bytes, its format, and the expected outcome."""

    name: str
    raw: bytes
    fmt: str                       # yaml | json
    outcome: str                   # refused | accepted
    field: str | None = None       # the field an error must name
    reason: str | None = None      # a fragment the error must contain


@dataclass(frozen=True)
class ConfigCase:
    """One hostile config file (``path`` relative to the config directory) and what an error must name."""

    name: str
    path: str
    raw: bytes
    field: str | None = None
    reason: str | None = None


#: libyaml's emitter where PyYAML has it: for the 100 kB and 1 MB cases it writes the same bytes as
#: the pure-Python one (checked on this corpus) in a tenth of the time, which every test worker pays
#: when it collects this module.
_FAST_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _chars(data: Any) -> int:
    if isinstance(data, str):
        return len(data)
    if isinstance(data, dict):
        return sum(_chars(k) + _chars(v) for k, v in data.items())
    if isinstance(data, list | tuple):
        return sum(map(_chars, data))
    return 1


def _y(data: Any) -> bytes:
    if _chars(data) > 20_000:  # libyaml refuses lone surrogates and huge integers, which only small cases hold
        return yaml.dump(data, Dumper=_FAST_DUMPER, allow_unicode=True, sort_keys=False).encode("utf-8")
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


def _j(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


ITEM_CASES: list[ItemCase] = []


def _refused(name: str, field: str | None, reason: str | None = None, *, both: bool = True, **over: Any) -> None:
    """A refused item, as YAML and (with ``both``) as JSON."""
    data = item_data(**over)
    ITEM_CASES.append(ItemCase(f"{name} (yaml)", _y(data), "yaml", "refused", field, reason))
    if both:
        ITEM_CASES.append(ItemCase(f"{name} (json)", _j(data), "json", "refused", field, reason))


def _raw(name: str, raw: bytes, fmt: str, reason: str | None = None, field: str | None = None) -> None:
    ITEM_CASES.append(ItemCase(name, raw, fmt, "refused", field, reason))


def _accepted(name: str, **over: Any) -> None:
    ITEM_CASES.append(ItemCase(name, _y(item_data(**over)), "yaml", "accepted"))


def _item_yaml(**over: Any) -> str:
    return _y(item_data(**over)).decode("utf-8")


# -- wrong types, field by field ----------------------------------------------------------------

_WRONG: dict[str, list[Any]] = {
    "id": [123, ["a"], {"a": 1}, True, "", "has space", "../../etc/passwd", "a" * 200, "<script>"],
    "revision": ["1", 1.5, 0, -1, True, 2**31, 10**30, "one"],
    "source_locale": [12, "en_US", "xx-YY", "en-UK", "", "english", "en-US-x-" + "a" * 100],
    "title": [12, "", ["a"], "bell \x07 in title", "escape \x1b[31m red", "line\u2028separator", "a" * 301],
    "summary": [12, "", {"text": "x"}, "nul \x00 byte"],
    "body": [12, ["a"], "nul \x00 in body", "x" * 200_001],
    "body_format": ["rtf", 1, "HTML"],
    "canonical_url": ["javascript:alert(1)", "/relative/path", "ftp://example.com/a", "http://user:pw@example.com/",
                      "https://exa mple.com/", "https://example.com/" + "a" * 2100, "data:text/html,<script>1</script>",
                      "https://example.com/\u202egpj.exe", "https://exa\u200bmple.com/", "https://\u2066example.com/",
                      5, "", "https://example.com:99999/", "https://example.com/\x00"],
    "cta": ["Read more", {"text": "", "url": "https://example.com/"}, {"text": "Go", "url": "javascript:void(0)"},
            {"text": "Go"}, {"text": "Go", "url": "https://example.com/", "onclick": "x"}],
    "campaign": ["has space", "", 123, "../etc", "a" * 101],
    "tags": ["notalist", [1, 2], ["a", "A"], [""], [f"t{i}" for i in range(31)], ["x" * 65], ["bad\x07tag"]],
    "media": [{"url": "https://example.com/a.png"}, [{"url": "javascript:alert(1)"}],
              [{"url": "https://example.com/a.mp3", "kind": "audio"}],
              [{"url": f"https://example.com/{i}.png"} for i in range(11)], [{"alt": "no url"}],
              [{"url": "https://example.com/a.png", "alt": "a" * 1001}]],
    "approved": ["true", 1, "yes", False, None],
    "approved_by": ["", 12, "a" * 201],
    "approved_at": ["2026-01-01T00:00:00", "2026-01-01", 1767225600, "2026-13-01T00:00:00Z", "yesterday",
                    "2026-01-01T25:00:00Z", ""],
    "publish_at": ["2026-12-01T09:00:00", "2026-12-01", 1767225600, "next monday"],
    "expires_at": ["2026-12-01T09:00", "soon"],
    "locales": [[], ["en_US"], ["xx-YY"], "en-US", ["en-US", "en-US"], [12], [f"en-{i:03d}" for i in range(101)]],
    "channels": [[], ["X!"], "x", [1]],
    "overrides": [{"locales": {"xx-YY": {"title": "t"}}}, {"channels": {"x": {"en-US": "bell \x07"}}},
                  {"unknown": {}}, {"locales": {"de-DE": {"title": 12}}}, "text"],
    "repeat": [{"interval": "30m", "count": 2}, {"interval": "1d"}, {"interval": "-1d", "count": 2},
               {"interval": "P0D", "count": 2}, {"interval": "1d", "count": 1000},
               {"interval": "1d", "count": 2, "variants": [f"v{i}" for i in range(21)]}, "daily"],
    "buying_stage": ["purchase", 1],
}

for _field, _values in _WRONG.items():
    for _i, _v in enumerate(_values):
        _refused(f"{_field} #{_i}", _field, **{_field: _v})
for _field in ("id", "revision", "source_locale", "title", "body", "canonical_url", "campaign", "approved",
               "approved_by", "approved_at"):
    _refused(f"{_field} missing", _field, "required", **{_field: None})
_refused("unknown field", "extra", "unknown field", extra="x")
_refused("unknown nested field", "cta.onclick", "unknown field", cta={"text": "Go", "url": "https://example.com/",
                                                                      "onclick": "alert(1)"})
_refused("expires before publish", "expires_at", "later than publish_at", publish_at="2026-12-01T09:00:00Z",
         expires_at="2026-11-01T09:00:00Z")
_refused("not approved", "approved", "not approved", approved=False)
_refused("unbalanced right-to-left override in the title", "title", "U+202E", title="Free \u202egift card")
_refused("unbalanced isolate in the summary", "summary", "U+2067", summary="Read \u2067this")
_refused("unbalanced embedding in a tag", "tags", "U+202B", tags=["sale\u202b"])
_refused("right-to-left override in the body", "body", "U+202E", body="Click https://example.com/\u202etxt.exe")

# -- intake rules: blank and single-line fields, overrides, variants, channel texts, channel names ----

_LONG = "x" * 100_000
for _name, _c in (("line feed", "\n"), ("carriage return", "\r"), ("tab", "\t")):
    _refused(f"{_name} in the title", "title", "single line", title=f"A{_c}title")
    _refused(f"{_name} in the CTA text", "cta.text", "single line", cta={"text": f"Read{_c}more",
                                                                         "url": "https://example.com/"})
    _refused(f"{_name} in the campaign", "campaign", "single line", campaign=f"spring{_c}launch")
    _refused(f"{_name} in a tag", "tags.1", "single line", tags=["ok", f"two{_c}lines"])
    _refused(f"{_name} in alt text", "media.0.alt", "single line",
             media=[{"url": "https://example.com/a.png", "alt": f"a{_c}b"}])
    _refused(f"{_name} in the approver", "approved_by", "single line", approved_by=f"ann{_c}bob@example.com")
    _refused(f"{_name} in an override title", "overrides.locales.de-DE.title", "single line",
             overrides={"locales": {"de-DE": {"title": f"Ein{_c}Titel"}}})
    _refused(f"{_name} in an override CTA text", "overrides.locales.de-DE.cta_text", "single line",
             overrides={"locales": {"de-DE": {"cta_text": f"Mehr{_c}lesen"}}})
for _name, _blank in (("empty", ""), ("whitespace-only", " \n\t "), ("invisible-only", "\u200b\u2060")):
    _refused(f"{_name} title", "title", "is " if _blank else "is empty", title=_blank)
    _refused(f"{_name} body", "body", "is " if _blank else "is empty", body=_blank)
    _refused(f"{_name} summary that is present", "summary", "is ", summary=_blank)
    _refused(f"{_name} override title", "overrides.locales.de-DE.title", "is ",
             overrides={"locales": {"de-DE": {"title": _blank}}})
    _refused(f"{_name} override summary", "overrides.locales.de-DE.summary", "is ",
             overrides={"locales": {"de-DE": {"summary": _blank}}})
    _refused(f"{_name} override body", "overrides.locales.de-DE.body", "is ",
             overrides={"locales": {"de-DE": {"body": _blank}}})
    _refused(f"{_name} channel text", "overrides.channels.sandbox.en-US", "is ",
             overrides={"channels": {"sandbox": {"en-US": _blank}}})
    _refused(f"{_name} evergreen variant", "repeat.variants.1", "is ",
             repeat={"interval": "1d", "count": 2, "variants": ["One variant.", _blank]})
_refused("blank CTA text", "cta.text", "blank", cta={"text": "  ", "url": "https://example.com/"})
_refused("blank tag", "tags.0", "blank", tags=["  "])
_refused("blank approver", "approved_by", "blank", approved_by=" ")
_refused("HTML body that is blank once sanitized", "body", "blank once sanitized", body_format="html",
         body="<script>alert(1)</script><iframe src='https://evil.example/'></iframe>")
_refused("HTML override body that is blank once sanitized", "overrides", "blank once sanitized", body_format="html",
         overrides={"locales": {"de-DE": {"body": "<style>p{}</style>"}}})
_refused("100k-character override title", "overrides.locales.de-DE.title", "more than the limit of 300",
         overrides={"locales": {"de-DE": {"title": _LONG}}})
_refused("100k-character override summary", "overrides.locales.de-DE.summary", "more than the limit of 5,000",
         overrides={"locales": {"de-DE": {"summary": _LONG}}})
_refused("oversized override body", "overrides.locales.de-DE.body", "more than the limit of 200,000",
         overrides={"locales": {"de-DE": {"body": "x" * 200_001}}})
_refused("oversized override CTA text", "overrides.locales.de-DE.cta_text", "more than the limit of 200",
         overrides={"locales": {"de-DE": {"cta_text": "x" * 201}}})
_refused("100k-character channel text", "overrides.channels.sandbox.en-US", "more than the limit of 5,000",
         overrides={"channels": {"sandbox": {"en-US": _LONG}}})
_refused("100k-character evergreen variant", "repeat.variants.0", "more than the limit of 5,000",
         repeat={"interval": "1d", "count": 2, "variants": [_LONG]})

def _escaped(name: str, field: str, reason: str, **over: Any) -> None:
    """A refused item as YAML and as JSON written with ``\\uXXXX`` escapes (no raw control bytes in the file)."""
    _refused(name, field, reason, both=False, **over)
    ITEM_CASES.append(ItemCase(f"{name} (json escapes)", json.dumps(item_data(**over)).encode(), "json", "refused",
                               field, reason))


for _c in ("\x07", "\x1b", "\x9b"):
    _u = f"U+{ord(_c):04X}"
    _escaped(f"{_u} in an override title", "overrides.locales.de-DE.title", _u,
             overrides={"locales": {"de-DE": {"title": f"a{_c}b"}}})
    _escaped(f"{_u} in an override body", "overrides.locales.de-DE.body", _u,
             overrides={"locales": {"de-DE": {"body": f"a{_c}b"}}})
    _escaped(f"{_u} in a channel text", "overrides.channels.sandbox.en-US", _u,
             overrides={"channels": {"sandbox": {"en-US": f"a{_c}b"}}})
    _escaped(f"{_u} in an evergreen variant", "repeat.variants.0", _u,
             repeat={"interval": "1d", "count": 2, "variants": [f"a{_c}b"]})
for _c in ("\u202e", "\u2067"):
    _u = f"U+{ord(_c):04X}"
    _refused(f"unclosed {_u} in an override summary", "overrides.locales.de-DE.summary", _u,
             overrides={"locales": {"de-DE": {"summary": f"Lies {_c}das"}}})
    _refused(f"unclosed {_u} in an override body", "overrides.locales.de-DE.body", _u,
             overrides={"locales": {"de-DE": {"body": f"Lies {_c}das"}}})
    _refused(f"unclosed {_u} in a channel text", "overrides.channels.sandbox.en-US", _u,
             overrides={"channels": {"sandbox": {"en-US": f"Read {_c}this"}}})
    _refused(f"unclosed {_u} in an evergreen variant", "repeat.variants.0", _u,
             repeat={"interval": "1d", "count": 2, "variants": [f"Read {_c}this"]})
for _c in ("\ufffe", "\ufdd0", "\U0010ffff"):
    _refused(f"noncharacter U+{ord(_c):04X} in the title", "title", "noncharacter", title=f"a{_c}b")
_refused("a channel listed twice", "channels", "more than once", channels=["sandbox", "sandbox-a", "sandbox"])
_refused("an unknown channel", "channels.1", "unknown channel 'linkdin'", channels=["sandbox", "linkdin"])
for _f, _over in (("title", {"title": "a\ud800b"}), ("body", {"body": "a\udfffb"}), ("tags.0", {"tags": ["\ud83d"]}),
                  ("cta.url", {"cta": {"text": "Go", "url": "https://example.com/\ud800"}}),
                  ("overrides.locales.de-DE.body", {"overrides": {"locales": {"de-DE": {"body": "\ud800"}}}}),
                  ("repeat.variants.0", {"repeat": {"interval": "1d", "count": 2, "variants": ["\ud800"]}})):
    _data = item_data(**_over)
    _raw(f"lone surrogate in {_f} (json)", json.dumps(_data).encode(), "json", "lone surrogate", _f)
_raw("lone surrogate in a key (json)", b'{"id": "item-1", "ti\\ud800tle": "x"}', "json", "lone surrogate")
_raw("lone surrogate in a YAML double-quoted string",
     _item_yaml().replace("title: A title", 'title: "A \\ud800 title"').encode(), "yaml", "lone surrogate", "title")
_raw("two byte-order marks (yaml)", b"\xef\xbb\xbf\xef\xbb\xbf" + _item_yaml().encode(), "yaml", "byte-order mark")
_raw("two byte-order marks (json)", b"\xef\xbb\xbf\xef\xbb\xbf" + _j(item_data()), "json", "byte-order mark")
_raw("JSON 1e400 in a nested field", json.dumps(item_data(repeat={"interval": "1d", "count": 2})).replace(
    '"count": 2', '"count": 1e400').encode(), "json", "finite", "repeat.count")
_raw("a body over the item byte limit", _j(item_data(body="x" * 1_100_000)), "json",
     "bytes, more than the limit of 1,048,576", "body")
_raw("a YAML body over the item byte limit", _y(item_data(body="y" * 1_100_000)), "yaml",
     "bytes, more than the limit of 1,048,576", "body")

# -- bytes, syntax and structure ------------------------------------------------------------------

_GOOD = _item_yaml()
_raw("invalid UTF-8 byte", b"id: item-1\ntitle: caf\xe9\n", "yaml", "not valid UTF-8")
_raw("invalid UTF-8 in JSON", b'{"id": "item-1", "title": "caf\xe9"}', "json", "not valid UTF-8")
_raw("overlong UTF-8", b"id: item-1\ntitle: \xc0\xaf\n", "yaml", "not valid UTF-8")
_raw("encoded surrogate", b"id: item-1\ntitle: \xed\xa0\x80\n", "yaml", "not valid UTF-8")
_raw("truncated multibyte sequence", _GOOD.encode() + b"\xe2\x82", "yaml", "not valid UTF-8")
_raw("UTF-16 with a BOM", _GOOD.encode("utf-16"), "yaml", "not valid UTF-8")
_raw("UTF-32", _GOOD.encode("utf-32"), "yaml", "not valid UTF-8")
_raw("latin-1", "id: item-1\ntitle: Ünïcödé\n".encode("latin-1"), "yaml", "not valid UTF-8")
for _c in ("\x00", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9b"):
    _raw(f"control character U+{ord(_c):04X} in the file", _GOOD.replace("A title", f"A{_c}title").encode(), "yaml",
         f"U+{ord(_c):04X}")
_raw("NUL in JSON", b'{"id": "item-1", "title": "a\x00b"}', "json", "U+0000")
_raw("anchor and alias", (_GOOD + "extra_title: &t x\nsummary2: *t\n").encode(), "yaml", "anchors")
_raw("alias only", b"id: item-1\ntitle: *t\n", "yaml", None)
_raw("merge key", (_GOOD + "<<: {campaign: x}\n").encode(), "yaml", "merge keys")
_raw("billion laughs", b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
     b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
     "yaml", "anchors")
_raw("python object tag", b"!!python/object/apply:os.system ['echo pwned']\n", "yaml", "explicit tags")
_raw("python name tag in a field", (_GOOD + "x: !!python/name:os.system\n").encode(), "yaml", "explicit tags")
_raw("binary tag", _GOOD.replace("title: A title", "title: !!binary aGVsbG8=").encode(), "yaml", "explicit tags")
_raw("str tag", _GOOD.replace("title: A title", "title: !!str A title").encode(), "yaml", "explicit tags")
_raw("local tag", _GOOD.replace("title: A title", "title: !shout A title").encode(), "yaml", "explicit tags")
_raw("duplicate key", (_GOOD + "title: Another title\n").encode(), "yaml", "duplicate key")
_raw("duplicate key in JSON", b'{"id": "item-1", "id": "item-2"}', "json", "duplicate key")
_raw("two documents", (_GOOD + "---\n" + _GOOD).encode(), "yaml", None)
_raw("empty file", b"", "yaml", "mapping")
_raw("only whitespace", b"   \n\n  ", "yaml", "mapping")
_raw("a bare string", b"hello\n", "yaml", "mapping")
_raw("a list", b"- id: item-1\n", "yaml", "mapping")
_raw("JSON null", b"null", "json", "mapping")
_raw("JSON list", b"[1, 2]", "json", "mapping")
_raw("JSON string", b'"item"', "json", "mapping")
_raw("JSON number", b"42", "json", "mapping")
_raw("nesting 40 deep (yaml block)", ("a:\n" + "".join("  " * i + "b:\n" for i in range(1, 40)) + "  " * 40 + "1\n")
     .encode(), "yaml", "nesting")
_raw("nesting 50,000 deep (yaml flow)", b"a: " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "yaml", "nesting")
_raw("nesting 50,000 deep (yaml flow, unclosed)", b"a: " + b"[" * 50_000 + b"\n", "yaml", None)
_raw("nesting 40 deep (json)", b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}", "json", "nesting")
_raw("nesting 100,000 deep (json)", b"[" * 100_000 + b"]" * 100_000, "json", None)
_raw(".nan", _GOOD.replace("revision: 1", "revision: .nan").encode(), "yaml", "NaN")
_raw(".inf", _GOOD.replace("revision: 1", "revision: -.inf").encode(), "yaml", "infinities")
_raw("a float too large for a double", _GOOD.replace("revision: 1", "revision: 1e400").encode(), "yaml",
     "too large")
_raw("an integer of 5,000 digits", _GOOD.replace("revision: 1", "revision: " + "9" * 5000).encode(), "yaml", None)
_raw("an integer of 5,000 digits in JSON", json.dumps(item_data()).replace('"revision": 1', '"revision": '
                                                                           + "9" * 5000).encode(), "json", None)
_raw("a hex integer of 5,000 digits", _GOOD.replace("revision: 1", "revision: 0x" + "f" * 5000).encode(), "yaml",
     None)
_raw("JSON NaN", json.dumps(item_data()).replace('"revision": 1', '"revision": NaN').encode(), "json", "NaN")
_raw("JSON Infinity", json.dumps(item_data()).replace('"revision": 1', '"revision": Infinity').encode(), "json",
     "Infinity")
_raw("JSON 1e400", json.dumps(item_data()).replace('"revision": 1', '"revision": 1e400').encode(), "json", None)
_raw("JSON comment", b'{"id": "item-1" /* c */}', "json", "invalid JSON")
_raw("JSON trailing comma", b'{"id": "item-1",}', "json", "invalid JSON")
_raw("JSON single quotes", b"{'id': 'item-1'}", "json", "invalid JSON")
_raw("JSON truncated", json.dumps(item_data()).encode()[:-10], "json", "invalid JSON")
_raw("YAML syntax error", b"id: [unclosed\n", "yaml", "invalid YAML")
_raw("YAML bad indentation", b"id: a\n  title: b\n c: d\n", "yaml", "invalid YAML")
_raw("YAML complex key", b"? [a, b]\n: c\n", "yaml", "plain strings")
_raw("YAML tab indentation", b"id: a\ncta:\n\ttext: x\n", "yaml", "invalid YAML")
_raw("file larger than the item limit", (_GOOD + "pad: " + "x" * (1024 * 1024) + "\n").encode(), "yaml",
     "more than the limit")
_raw("item larger than the limit after parsing", _j(item_data(body="x" * 199_000, summary="y" * 4999,
                                                              overrides={"locales": {
                                                                  loc: {"body": "z" * 199_000}
                                                                  for loc in ("de-DE", "fr-FR", "ja-JP", "es-ES",
                                                                              "it-IT")}})), "json",
     "more than the limit", "body")

# -- hostile but valid: must come out safe ---------------------------------------------------------

_HTML_ATTACKS = [
    "<p>Hi</p><script>alert(document.cookie)</script>",
    '<img src="https://example.com/a.png" onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href=" javascript:alert(1)">click</a>',
    '<a href="vbscript:msgbox(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
    "<iframe src=\"https://evil.example/\"></iframe>",
    "<style>body{display:none}</style><p>hidden</p>",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<object data="https://evil.example/x.swf"></object><embed src="x">',
    '<form action="https://evil.example/"><input name="pw"></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<base href="https://evil.example/"><a href="/x">x</a>',
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">styled</p>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<scr<script>ipt>alert(1)</script>",
    '<img src=x onerror=alert(1)//',
    '<a href="https://example.com/" target="_blank">ok</a><details open ontoggle="alert(1)">',
    "<!--<script>alert(1)</script>-->",
    '<table><tr><td background="javascript:alert(1)">x</td></tr></table>',
]
for _i, _h in enumerate(_HTML_ATTACKS):  # with some text, as a body that is only an attack is blank once sanitized
    _accepted(f"HTML attack #{_i}", body_format="html", body="<p>Read this.</p>" + _h)
_MARKDOWN_ATTACKS = [
    "Hello <script>alert(1)</script> world",
    "[click](javascript:alert(1))",
    "![img](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    '<img src=x onerror="alert(1)">',
    "[click](data:text/html,<script>alert(1)</script>)",
    "<a href=\"javascript:alert(1)\">raw html link</a>",
    "```html\n<script>alert(1)</script>\n```",
]
for _i, _m in enumerate(_MARKDOWN_ATTACKS):
    _accepted(f"Markdown attack #{_i}", body=_m)
_accepted("title with HTML", title="<b>Bold</b> & <script>alert(1)</script>")
_accepted("summary with an event handler", summary='<img src=x onerror="alert(1)"> look')
_accepted("title with zero-width characters", title="Zero\u200bwidth\u200cjoin\u200dand\u2060no\ufeffbreak")
_accepted("emoji ZWJ sequences", title="Team 👩‍👩‍👧‍👦 and 🏳️‍🌈 and 👍🏽")
_accepted("balanced right-to-left override", title="Order \u202e12345\u202c now")
_accepted("balanced isolate", title="Arabic name \u2067محمد\u2069 joins")
_accepted("Arabic title", title="مرحبا بالعالم", summary="نص عربي طويل", source_locale="ar-SA")
_accepted("Hebrew title", title="שלום עולם", source_locale="he-IL")
_accepted("combining marks", title="Z̴̡͈a̷̢͍l̶̛̤g̷̣̈o̸̢͝ text")
_accepted("a very long word", summary="x" * 4000)
_accepted("CRLF line endings in the body", body="line one\r\nline two\r\n")
_accepted("javascript: as text in the summary", summary="Type javascript:alert(1) in your console (do not)")
_accepted("a tab in the body", body="col1\tcol2")
_accepted("BOM inside the title", title="Mid\ufefftitle")
_accepted("mention and hashtag lookalikes", summary="@everyone #hashtag ＃fullwidth ＠fullwidth")
_accepted("URL with a query and fragment", canonical_url="https://example.com/p?a=1&b=%3Cscript%3E#x")
_accepted("IDN host", canonical_url="https://bücher.example/p")
_accepted("maximum title", title="t" * 300)
_accepted("a minimal item: no summary, CTA, tags or media", summary=None, cta=None, tags=None)
_accepted("line breaks and tabs in the summary, body and channel texts",
          summary="one\r\ntwo\tthree", body="col1\tcol2\r\nrow", overrides={"channels": {"sandbox": {
              "en-US": "Line one\nline two\tand a tab"}}})
_accepted("an HTML body without a summary gets a teaser from its text", summary=None, body_format="html",
          body="<h2>Heading</h2><p>First sentence. Second <b>sentence</b>!</p><script>alert(1)</script>")
ITEM_CASES.append(ItemCase("BOM at the start of the file", b"\xef\xbb\xbf" + _GOOD.encode(), "yaml", "accepted"))
ITEM_CASES.append(ItemCase("BOM at the start of JSON", b"\xef\xbb\xbf" + _j(item_data()), "json", "accepted"))
ITEM_CASES.append(ItemCase("CRLF YAML", _GOOD.replace("\n", "\r\n").encode(), "yaml", "accepted"))
ITEM_CASES.append(ItemCase("YAML 1.1 booleans stay strings", _GOOD.replace("campaign: test-campaign",
                                                                            "campaign: 'no'").encode(), "yaml",
                           "accepted"))


# -- configuration files --------------------------------------------------------------------------

CONFIG_CASES: list[ConfigCase] = []


def _conf(name: str, path: str, raw: bytes | str, field: str | None = None, reason: str | None = None) -> None:
    CONFIG_CASES.append(ConfigCase(name, path, raw.encode("utf-8") if isinstance(raw, str) else raw, field,
                                   reason))


_ACC = "accounts.yaml"
_SET = "settings.yaml"
_ROUTE = "routes/test.yaml"


def _accounts(acc: dict[str, Any]) -> bytes:
    return _y({"accounts": {"sandbox-a": acc}})


def _settings(data: Any) -> bytes:
    return _y(data)


def _route(**over: Any) -> bytes:
    route: dict[str, Any] = {"region": "test", "locales": ["en-US"], "timezone": "UTC", "accounts": ["sandbox-a"]}
    for k, v in over.items():
        if v is None:
            route.pop(k, None)
        else:
            route[k] = v
    return _y(route)


_conf("settings: threads as a word", _SET, _settings({"worker": {"threads": "eight"}}), "worker.threads")
_conf("settings: zero threads", _SET, _settings({"worker": {"threads": 0}}), "worker.threads")
_conf("settings: 10,000 threads", _SET, _settings({"worker": {"threads": 10_000}}), "worker.threads")
_conf("settings: zero prepare threads", _SET, _settings({"worker": {"prepare_threads": 0}}), "worker.prepare_threads")
_conf("settings: unknown worker key", _SET, _settings({"worker": {"thread": 8}}), "worker.thread", "unknown")
_conf("settings: unknown section", _SET, _settings({"wroker": {}}), "wroker")
_conf("settings: unknown intake limit", _SET, _settings({"intake": {"max_bdy_chars": 5}}), None, "unknown limit")
_conf("settings: negative intake limit", _SET, _settings({"intake": {"max_body_chars": -1}}), None, "positive")
_conf("settings: intake limit as text", _SET, _settings({"intake": {"max_body_chars": "lots"}}), "intake")
_conf("settings: claim lease shorter than the time limit", _SET,
      _settings({"worker": {"claim_lease": "10s", "publish_time_limit": "15s"}}), "worker", "claim_lease")
_conf("settings: maintenance chance zero", _SET, _settings({"worker": {"maintenance_chance": 0}}),
      "worker.maintenance_chance")
_conf("settings: maintenance chance over a million", _SET, _settings({"worker": {"maintenance_chance": 10**7}}),
      "worker.maintenance_chance")
_conf("settings: negative duration", _SET, _settings({"worker": {"retry_min_backoff": "-5s"}}),
      "worker.retry_min_backoff")
_conf("settings: zero duration", _SET, _settings({"worker": {"heartbeat_timeout": "0s"}}), "worker.heartbeat_timeout")
_conf("settings: duration as a number", _SET, _settings({"worker": {"resend_after": 300}}), "worker.resend_after")
_conf("settings: duration nonsense", _SET, _settings({"worker": {"claim_lease": "forever"}}), "worker.claim_lease")
_conf("settings: nan", _SET, "worker:\n  max_attempts: .nan\n", None, "NaN")
_conf("settings: inf", _SET, "worker:\n  max_attempts: .inf\n", None, "infinities")
_conf("settings: huge number", _SET, "worker:\n  max_attempts: " + "9" * 5000 + "\n", None, None)
_conf("settings: float too large", _SET, "worker:\n  max_attempts: 1e400\n", None, None)
_conf("settings: a list", _SET, "- worker\n", None, None)
_conf("settings: a scalar", _SET, "worker\n", None, None)
_conf("settings: anchors", _SET, "a: &x {threads: 2}\nworker: *x\n", None, "anchors")
_conf("settings: merge key", _SET, "worker:\n  <<: {threads: 2}\n", None, "merge keys")
_conf("settings: billion laughs", _SET, 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b]\n', None, "anchors")
_conf("settings: python tag", _SET, "worker: !!python/object/apply:os.system ['id']\n", None, "explicit tags")
_conf("settings: duplicate key", _SET, "worker: {}\nworker: {}\n", None, "duplicate key")
_conf("settings: two documents", _SET, "worker: {}\n---\nworker: {}\n", None, None)
_conf("settings: invalid UTF-8", _SET, b"worker:\n  threads: \xff\n", None, "UTF-8")
_conf("settings: UTF-16", _SET, "worker:\n  threads: 2\n".encode("utf-16"), None, "UTF-8")
_conf("settings: control character", _SET, "worker:\n  threads: 2\x07\n", None, "U+0007")
_conf("settings: NUL", _SET, "worker:\x00\n", None, "U+0000")
_conf("settings: deep nesting", _SET, "a: " + "[" * 10_000 + "]" * 10_000 + "\n", None, "nesting")
_conf("settings: syntax error", _SET, "worker: [\n", None, "invalid YAML")
_conf("settings: file too large", _SET, "# " + "x" * (5 * 1024 * 1024) + "\n", None, "limit")
_conf("settings: literal api token", _SET, _settings({"api": {"tokens": {"cms": {"token": "s3cr3t-value"}}}}),
      "api.tokens.cms.token", "environment reference")
_conf("settings: webhook url javascript", _SET,
      _settings({"notifications": {"webhooks": {"cms": {"url": "javascript:alert(1)", "secret": "${S}"}}}}),
      "notifications.webhooks.cms.url")
_conf("settings: engagement interval text", _SET, _settings({"engagement": {"interval": "often"}}),
      "engagement.interval")
_conf("accounts: literal secret", _ACC, _accounts({"adapter": "sandbox", "credentials": {"token": "abc123"}}),
      "accounts.sandbox-a.credentials.token", "environment reference")
_conf("accounts: unknown adapter", _ACC, _accounts({"adapter": "myspace"}), "accounts.sandbox-a.adapter")
_conf("accounts: adapter as a number", _ACC, _accounts({"adapter": 7}), "accounts.sandbox-a.adapter")
_conf("accounts: base_url javascript", _ACC, _accounts({"adapter": "sandbox", "base_url": "javascript:alert(1)"}),
      "accounts.sandbox-a.base_url")
_conf("accounts: base_url with credentials", _ACC,
      _accounts({"adapter": "sandbox", "base_url": "https://user:pw@example.com/"}), "accounts.sandbox-a.base_url")
_conf("accounts: base_url with a right-to-left override", _ACC,
      _accounts({"adapter": "sandbox", "base_url": "https://example.com/\u202eexe.txt"}),
      "accounts.sandbox-a.base_url")
_conf("accounts: zero timeout", _ACC, _accounts({"adapter": "sandbox", "read_timeout_s": 0}),
      "accounts.sandbox-a.read_timeout_s")
_conf("accounts: timeout as text", _ACC, _accounts({"adapter": "sandbox", "connect_timeout_s": "5"}),
      "accounts.sandbox-a.connect_timeout_s")
_conf("accounts: unknown key", _ACC, _accounts({"adapter": "sandbox", "passwd": "x"}), "accounts.sandbox-a.passwd")
_conf("accounts: bad account id", _ACC, _y({"accounts": {"bad id!": {"adapter": "sandbox"}}}), None, None)
_conf("accounts: unknown option", _ACC, _accounts({"adapter": "sandbox", "options": {"evil": True}}),
      "accounts.sandbox-a.options")
_conf("accounts: rate limit zero", _ACC,
      _accounts({"adapter": "sandbox", "rate_limits": [{"max_posts": 0, "per": "1h"}]}),
      "accounts.sandbox-a.rate_limits.0.max_posts")
_conf("accounts: not a mapping", _ACC, "accounts: [sandbox-a]\n", "accounts")
_conf("accounts: empty file", _ACC, "", None, None)
_conf("accounts: aliases", _ACC, "base: &b {adapter: sandbox}\naccounts:\n  sandbox-a: *b\n", None, "anchors")
_conf("accounts: duplicate account", _ACC, "accounts:\n  sandbox-a: {adapter: sandbox}\n"
      "  sandbox-a: {adapter: sandbox}\n", None, "duplicate key")
_conf("accounts: invalid UTF-8", _ACC, b"accounts:\n  sandbox-a: {adapter: sandb\xc3x}\n", None, "UTF-8")
_conf("route: unknown locale", _ROUTE, _route(locales=["xx-YY"]), "locales")
_conf("route: underscore locale", _ROUTE, _route(locales=["en_US"]), "locales", "en-US")
_conf("route: unknown time zone", _ROUTE, _route(timezone="Mars/Base"), "timezone")
_conf("route: unknown account", _ROUTE, _route(accounts=["nobody"]), "accounts")
_conf("route: locales not a list", _ROUTE, _route(locales="en-US"), "locales")
_conf("route: no region", _ROUTE, _route(region=None), "region")
_conf("route: unknown engine", _ROUTE, _route(translation={"engine": "babelfish"}), "translation")
_conf("route: bad window", _ROUTE, _route(windows=[{"days": ["someday"], "start": "25:00", "end": "09:00"}]),
      "windows")
_conf("route: negative gap", _ROUTE, _route(min_gap="-1h"), "min_gap")
_conf("route: utm value with a query", _ROUTE, _route(utm={"medium": "x&utm_source=evil"}), "utm.medium")
_conf("route: unknown utm key", _ROUTE, _route(utm={"medum": "social"}), "utm.medum")
_conf("route: unknown key", _ROUTE, _route(colour="blue"), "colour")
_conf("route: python tag", _ROUTE, "region: !!python/name:os.system test\n", None, "explicit tags")
_conf("route: escape character in the region", _ROUTE, _route(region="te\x1bst"), "region")
_conf("route: raw control character in the file", _ROUTE, "region: te\x1bst\n", None, "U+001B")
_conf("route: lone surrogate from an escape", _ROUTE, 'region: "te\\ud800st"\n', None, "lone surrogate")
_conf("settings: two byte-order marks", _SET, b"\xef\xbb\xbf\xef\xbb\xbfworker: {}\n", None, "byte-order mark")

#: Every case, by kind, for the figures in docs/reliability.md.
COUNTS: Callable[[], dict[str, int]] = lambda: {  # noqa: E731
    "items refused": sum(c.outcome == "refused" for c in ITEM_CASES),
    "items accepted and rendered safely": sum(c.outcome == "accepted" for c in ITEM_CASES),
    "config files": len(CONFIG_CASES)}
