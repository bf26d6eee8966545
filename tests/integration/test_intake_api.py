"""Intake refusals over HTTP: 422 with the field's path for every rule, never a 500, nothing stored."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from syndicate import Runtime
from syndicate.ledger.schema import items
from tests.helpers import item_data, sandbox_accounts, simple_route
from tests.integration.test_api import ApiServer

TOKEN = "tok-intake-0123456789abcdef"


@pytest.fixture
def served(config_dir: Callable[..., Path], sqlite_url: str, outbox: Path) -> Iterator[tuple[ApiServer, Runtime]]:
    cfg = config_dir(accounts=sandbox_accounts("social-na"), routes=[simple_route("na", ["en-US"], ["social-na"])],
                     settings={"api": {"tokens": {"cms": {"token": "${API_TOKEN_CMS}",
                                                            "scopes": ["submit", "read", "cancel", "review"]}}}})
    with (Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ={"API_TOKEN_CMS": TOKEN}) as rt,
          ApiServer(rt) as server):
        yield server, rt


def post(server: ApiServer, raw: bytes, path: str = "/v1/items") -> requests.Response:
    return requests.post(server.url + path, data=raw, timeout=30,
                         headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})


def stored_items(rt: Runtime) -> int:
    with rt.ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(items)).scalar_one())


def problems(answer: requests.Response) -> dict[str, str]:
    assert answer.status_code == 422, answer.text[:500]
    return {p["field"]: p["reason"] for p in answer.json()["problems"]}


CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "blank title": ({"title": "  "}, "title", "is blank"),
    "missing body": ({"body": None}, "body", "is required"),
    "blank override": ({"overrides": {"locales": {"de-DE": {"summary": "\t"}}}}, "overrides.locales.de-DE.summary",
                       "is blank"),
    "blank variant": ({"repeat": {"interval": "1d", "count": 2, "variants": [""]}}, "repeat.variants.0", "is empty"),
    "tab in a tag": ({"tags": ["a\tb"]}, "tags.0", "contains a tab (U+0009)"),
    "line feed in the CTA text": ({"cta": {"text": "a\nb", "url": "https://example.com/"}}, "cta.text",
                                  "contains a line feed (U+000A)"),
    "line feed in alt text": ({"media": [{"url": "https://example.com/a.png", "alt": "a\nb"}]}, "media.0.alt",
                              "line feed"),
    "return in the approver": ({"approved_by": "a\rb"}, "approved_by", "carriage return"),
    "100k override title": ({"overrides": {"locales": {"fr-FR": {"title": "t" * 100_000}}}},
                            "overrides.locales.fr-FR.title", "is 100,000 characters, more than the limit of 300"),
    "BEL in a channel text": ({"overrides": {"channels": {"x": {"en-US": "ring \u0007"}}}},
                              "overrides.channels.x.en-US", "U+0007"),
    "ESC in a variant": ({"repeat": {"interval": "1d", "count": 2, "variants": ["\u001b[31mred"]}},
                         "repeat.variants.0", "U+001B"),
    "unclosed RLO in an override body": ({"overrides": {"locales": {"de-DE": {"body": "a \u202eb"}}}},
                                         "overrides.locales.de-DE.body", "U+202E"),
    "unknown channel": ({"channels": ["social-na", "linkdin"]}, "channels.1", "did you mean 'linkedin'?"),
    "repeated channel": ({"channels": ["social-na", "social-na"]}, "channels", "listed more than once"),
    "noncharacter": ({"summary": "a\ufffe"}, "summary", "noncharacter U+FFFE"),
    "body over the item limit": ({"body": "x" * 1_100_000}, "body", "bytes, more than the limit of 1,048,576"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_intake_rule_answers_422_with_the_field(name: str, served: tuple[ApiServer, Runtime]) -> None:
    # Given an item that breaks one rule, sent as JSON (control characters as \\u escapes)
    over, field, reason = CASES[name]
    server, rt = served
    # When it is posted / Then 422 names the field and the reason, and nothing is stored
    found = problems(post(server, json.dumps(item_data(**over)).encode()))
    assert field in found, found
    assert reason in found[field]
    assert stored_items(rt) == 0


def test_a_lone_surrogate_answers_422_naming_the_field_not_500(served: tuple[ApiServer, Runtime]) -> None:
    server, rt = served
    raw = json.dumps(item_data()).replace('"A title"', '"A \\ud800 title"').encode()
    answer = post(server, raw)
    assert problems(answer) == {"title": "contains the lone surrogate U+D800 (an unpaired \\ud800 escape), which is "
                                         "not a character"}
    assert stored_items(rt) == 0


def test_a_lone_surrogate_in_any_request_body_answers_422(served: tuple[ApiServer, Runtime]) -> None:
    # Given a stored item
    server, _ = served
    assert post(server, json.dumps(item_data()).encode()).status_code == 201
    # When a cancel request's reason holds a lone surrogate / Then 422 naming the field, not a 500
    answer = post(server, b'{"reason": "oops \\udfff"}', "/v1/items/item-1/cancel")
    assert problems(answer) == {"reason": "contains the lone surrogate U+DFFF (an unpaired \\udfff escape), which is "
                                          "not a character"}


def test_a_non_finite_number_answers_422_naming_the_field(served: tuple[ApiServer, Runtime]) -> None:
    server, _ = served
    raw = json.dumps(item_data()).replace('"revision": 1', '"revision": 1e400').encode()
    assert problems(post(server, raw)) == {"revision": "is not a finite number (inf); numbers must be finite"}


def test_two_byte_order_marks_answer_422(served: tuple[ApiServer, Runtime]) -> None:
    server, _ = served
    found = problems(post(server, b"\xef\xbb\xbf\xef\xbb\xbf" + json.dumps(item_data()).encode()))
    assert found == {"": "starts with more than one byte-order mark (U+FEFF); save it as UTF-8 with at most one"}


def test_a_minimal_item_is_accepted(served: tuple[ApiServer, Runtime]) -> None:
    server, rt = served
    answer = post(server, json.dumps(item_data(summary=None, cta=None, tags=None)).encode())
    assert answer.status_code == 201, answer.text
    assert stored_items(rt) == 1


def test_the_openapi_document_no_longer_requires_a_summary(served: tuple[ApiServer, Runtime]) -> None:
    server, _ = served
    doc = requests.get(server.url + "/openapi.json", timeout=10).json()
    required = doc["components"]["schemas"]["Item"]["required"]
    assert "summary" not in required and {"title", "body", "canonical_url", "campaign"} <= set(required)
