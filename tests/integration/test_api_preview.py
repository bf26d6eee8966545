"""``POST /v1/preview`` over a real socket: the posts ``syndicate preview`` shows, as JSON, and no
trace of them: the ledger's tables and the broker's keys in Redis are the same before and after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import redis
import requests
import sqlalchemy as sa

from syndicate import Runtime, submit
from syndicate.api.app import openapi_document
from syndicate.model.item import parse_item
from syndicate.operations.preview import preview_item
from tests.fakes.deepl import FakeDeepL
from tests.helpers import item_data, sandbox_accounts, simple_route
from tests.integration.test_api import READER, TOKEN, ApiServer

AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEY = "dk-preview-test-0f1e2d3c:fx"


@pytest.fixture
def deepl() -> Iterator[FakeDeepL]:
    with FakeDeepL(KEY) as fake:
        yield fake


@pytest.fixture(params=["redis", "embedded"])
def rt(request: pytest.FixtureRequest, config_dir: Callable[..., Path], ledger_url: str, redis_url: str,
       redis_namespace: str, outbox: Path, deepl: FakeDeepL, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """A runtime on Redis (the translation cache in Redis) or embedded (the cache in the ledger), whose
    German route machine-translates with DeepL (a loopback fake) and requires review."""
    monkeypatch.setenv("API_TOKEN_PRODUCER", TOKEN)
    monkeypatch.setenv("API_TOKEN_READER", READER)
    cfg = config_dir(
        accounts=sandbox_accounts("a1", "d1"),
        routes=[simple_route("na", ["en-US"], ["a1"]),
                simple_route("dach", ["de-DE"], ["d1"], translation={"engine": "deepl-eu", "review_required": True})],
        settings={"api": {"max_body_bytes": 4096, "tokens": {
            "cms": {"token": "${API_TOKEN_PRODUCER}"},
            "dashboard": {"token": "${API_TOKEN_READER}", "scopes": ["read"]}}},
            "translation": {"engines": {"deepl-eu": {"engine": "deepl", "options": {
                "auth_key": "${DEEPL_AUTH_KEY}", "server_url": deepl.url}}}}})
    with Runtime.create(config=cfg, database_url=ledger_url, namespace=redis_namespace,
                        redis_url=redis_url if request.param == "redis" else "",
                        environ={"DEEPL_AUTH_KEY": KEY, "API_TOKEN_PRODUCER": TOKEN,
                                 "API_TOKEN_READER": READER}) as runtime:
        submit(item_data(id="stored"), runtime=runtime, ignore_schedule=True)
        yield runtime


@pytest.fixture
def api(rt: Runtime) -> Iterator[ApiServer]:
    with ApiServer(rt) as server:
        yield server


def ledger_rows(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every ledger table."""
    engine = rt.ledger.engine
    tables = sa.MetaData()
    tables.reflect(engine)
    with engine.connect() as conn:
        return {name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
                for name, t in tables.tables.items()}


def redis_keys(redis_url: str, namespace: str) -> dict[bytes, Any]:
    """Every key of this test's namespace with its length (queues) or type."""
    client = redis.Redis.from_url(redis_url)
    try:
        out: dict[bytes, Any] = {}
        for key in client.scan_iter(match=f"{namespace}*"):
            kind = client.type(key)
            out[key] = (kind, client.llen(key) if kind == b"list" else client.hlen(key) if kind == b"hash"
                        else client.zcard(key) if kind == b"zset" else None)
        return out
    finally:
        client.close()


def preview(api: ApiServer, body: Any, *, token: str = TOKEN, params: Any = None) -> requests.Response:
    return requests.post(f"{api.url}/v1/preview", json=body, params=params, timeout=30,
                         headers={"Authorization": f"Bearer {token}"})


def test_preview_answers_every_post_and_leaves_no_trace(api: ApiServer, rt: Runtime, redis_url: str,
                                                        redis_namespace: str, outbox: Path, deepl: FakeDeepL) -> None:
    # Given the ledger, the broker's keys and the outbox as they are
    before = ledger_rows(rt), redis_keys(redis_url, redis_namespace), sorted(outbox.rglob("*"))
    data = item_data(id="new-item", overrides={"locales": {"de-DE": {"title": "Ein Titel"}}})
    # When a new item is previewed
    answer = preview(api, data, params={"now": "true"})
    # Then every locale and account has its post, as the CLI's preview renders it
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["item_id"], body["revision"], body["complete"]) == ("new-item", 1, True)
    posts = {(p["locale"], p["account"]): p for p in body["posts"]}
    assert set(posts) == {("en-US", "a1"), ("de-DE", "d1")}
    expected = {(p.locale, p.account): p for p in preview_item(rt, parse_item(data), now=rt.ledger.now(),
                                                               ignore_schedule=True)}
    for key, post in posts.items():
        assert post["text"] == expected[key].text
        assert (post["length"], post["limit"], post["fits"]) == (expected[key].length, expected[key].limit, True)
        assert post["scheduled_for"].endswith("Z")
    # And the human German title is used, the machine-translated fields put the post behind the review gate
    assert "Ein Titel" in posts[("de-DE", "d1")]["text"]
    assert posts[("de-DE", "d1")]["sources"]["title"] == "human"
    assert posts[("de-DE", "d1")]["sources"]["summary"] == "machine" and deepl.translate_requests()
    assert posts[("de-DE", "d1")]["state"] == "awaiting_review" and posts[("de-DE", "d1")]["review_required"]
    assert any(w.startswith("machine translation") for w in posts[("de-DE", "d1")]["warnings"])
    assert posts[("en-US", "a1")]["state"] == "scheduled" and not posts[("en-US", "a1")]["review_required"]
    # And nothing was stored, queued, cached or published
    assert (ledger_rows(rt), redis_keys(redis_url, redis_namespace), sorted(outbox.rglob("*"))) == before
    assert rt.ledger.item("new-item") is None


def test_the_answer_matches_its_openapi_schema(api: ApiServer) -> None:
    answer = preview(api, item_data(id="schema-check"), params={"now": "true"})
    doc = openapi_document()
    schema = doc["paths"]["/v1/preview"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})
    assert answer.status_code == 200
    assert validator.is_valid(answer.json()), list(validator.iter_errors(answer.json()))


def test_filters_pick_posts_and_an_unknown_locale_lists_the_routes_locales(api: ApiServer) -> None:
    # When only one locale is asked for
    answer = preview(api, item_data(id="filtered"), params={"locale": "en-US"})
    # Then only its posts come back
    assert answer.status_code == 200
    assert {p["locale"] for p in answer.json()["posts"]} == {"en-US"}
    # And a locale no route has is refused with the ones they have
    answer = preview(api, item_data(id="filtered"), params={"locale": "fr-FR"})
    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    assert problem["field"] == "locale" and "de-DE, en-US" in problem["reason"]


def test_an_invalid_item_gets_every_problem_by_field(api: ApiServer, rt: Runtime) -> None:
    answer = preview(api, item_data(id="bad", source_locale="en_US", body=" "))
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_item"
    fields = {p["field"] for p in answer.json()["problems"]}
    assert fields == {"source_locale", "body"}
    assert rt.ledger.item("bad") is None


def test_preview_needs_the_submit_scope_and_the_body_limit_of_items(api: ApiServer) -> None:
    assert requests.post(f"{api.url}/v1/preview", json=item_data(), timeout=10).status_code == 401
    answer = preview(api, item_data(), token=READER)
    assert answer.status_code == 403 and answer.json()["title"] == "this token may not submit"
    big = preview(api, item_data(body="x" * 5000))
    assert big.status_code == 413
    text = requests.post(f"{api.url}/v1/preview", data=b"id: x", timeout=10,
                         headers={**AUTH, "Content-Type": "application/yaml"})
    assert text.status_code == 415
