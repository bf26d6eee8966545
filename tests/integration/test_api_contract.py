"""The API says what is wrong and where: JSON errors with line and column, refused values with the
allowed ones, 405 with Allow for any method a path does not serve, and its own documentation at
/docs (offline, with the lifecycle webhooks) over real sockets."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import jsonschema_rs
import pytest
import requests
from schemathesis.specs.openapi import definitions

from syndicate import Runtime, submit
from syndicate.api.app import openapi_document
from syndicate.model.config import LifecycleEvent
from syndicate.operations.notify import lifecycle_payload
from tests.helpers import item_data, sandbox_accounts, simple_route
from tests.integration.test_api import TOKEN, ApiServer
from tests.support.cdp import Chromium

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(config_dir: Callable[..., Path], sqlite_url: str, outbox: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiServer]:
    monkeypatch.setenv("API_TOKEN_PRODUCER", TOKEN)
    cfg = config_dir(accounts=sandbox_accounts("a1"), routes=[simple_route("na", ["en-US"], ["a1"])],
                     settings={"api": {"tokens": {"cms": {"token": "${API_TOKEN_PRODUCER}",
                                                            "scopes": ["submit", "read", "cancel", "review"]}}}})
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(id="stored", campaign="spring"), runtime=rt, ignore_schedule=True)
        with ApiServer(rt) as server:
            yield server


def test_malformed_json_is_refused_with_its_line_and_column(api: ApiServer) -> None:
    # Given a body with a doubled comma on its third line (the second comma is its 17th character)
    body = b'{\n  "id": "spring",\n  "revision": 1,,\n  "title": "x"\n}'
    # When it is posted
    answer = requests.post(f"{api.url}/v1/items", data=body, timeout=10,
                           headers={**AUTH, "Content-Type": "application/json"})
    # Then the answer points at the place
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_json"
    assert answer.json()["problems"] == [
        {"field": "", "reason": "line 3, column 17: invalid JSON: Expecting property name enclosed in double quotes"}]


def test_an_unknown_state_filter_lists_the_allowed_states(api: ApiServer) -> None:
    answer = requests.get(f"{api.url}/v1/campaigns/spring/publications", params={"state": "failled"},
                          headers=AUTH, timeout=10)
    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    assert problem == {"field": "state", "reason": (
        "unknown state 'failled'; allowed: awaiting_review, scheduled, enqueued, calling, retrying, in_doubt, "
        "published, unconfirmed, failed, cancelled, skipped, unpublished; did you mean 'failed'?")}


def test_a_request_body_of_the_wrong_type_is_refused_in_plain_words(api: ApiServer) -> None:
    answer = requests.post(f"{api.url}/v1/items/stored/cancel", json={"locale": 5, "reason": ""}, headers=AUTH,
                           timeout=10)
    assert answer.status_code == 422
    assert answer.json()["problems"] == [{"field": "locale", "reason": "expected text, got 5"},
                                         {"field": "reason", "reason": "must not be empty"}]


@pytest.mark.parametrize(("path", "allowed"), [
    ("/v1/items", "POST"), ("/v1/items/stored/publications", "GET, HEAD"), ("/v1/items/stored/cancel", "POST"),
    ("/v1/items/stored/locales/de-DE/approve", "POST"), ("/v1/campaigns/spring/publications", "GET, HEAD"),
    ("/openapi.json", "GET, HEAD"), ("/docs", "GET, HEAD"), ("/healthz", "GET, HEAD")])
@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "OPTIONS", "BREW"])
def test_a_method_a_path_does_not_serve_gets_405_with_allow(api: ApiServer, path: str, allowed: str,
                                                             method: str) -> None:
    answer = requests.request(method, api.url + path, headers=AUTH, timeout=10)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == allowed
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == "method_not_allowed"
    assert answer.json()["title"] == f"{method} is not allowed here; allowed: {allowed}"


def test_the_openapi_document_is_valid_3_1_and_describes_every_lifecycle_webhook() -> None:
    # Given the document the API serves
    doc = openapi_document()
    # Then it is valid by the OpenAPI 3.1 meta-schema, and has one webhook per lifecycle event
    errors = [str(e) for e in definitions.OPENAPI_31_VALIDATOR.iter_errors(doc)]
    assert errors == []
    assert set(doc["webhooks"]) == {f"publication.{state}" for state in get_args(LifecycleEvent)}
    hook = doc["webhooks"]["publication.published"]["post"]
    assert [p["name"] for p in hook["parameters"]] == ["webhook-id", "webhook-timestamp", "webhook-signature"]


def test_a_real_lifecycle_payload_matches_its_webhook_schema(config_dir: Callable[..., Path], sqlite_url: str,
                                                             outbox: Path) -> None:
    # Given the body syndicate sends when a publication is published
    with Runtime.create(config=config_dir(), database_url=sqlite_url, redis_url="") as rt:
        [pub] = submit(item_data(), runtime=rt, ignore_schedule=True).publications
    payload = json.loads(json.dumps(lifecycle_payload(pub, None, "planned", None, datetime.now(UTC))))
    doc = openapi_document()

    def validator(event: str) -> Any:
        schema = doc["webhooks"][event]["post"]["requestBody"]["content"]["application/json"]["schema"]
        return jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})

    # When it is checked against the documented schemas, then its own event's accepts it, another's not
    assert validator("publication.scheduled").is_valid(payload)
    assert not validator("publication.published").is_valid(payload)


def test_docs_serves_the_document_as_a_page_that_loads_nothing(api: ApiServer) -> None:
    # When /docs is read
    answer = requests.get(f"{api.url}/docs", timeout=10)
    page = answer.text
    # Then it is HTML under a policy that forbids loading or running anything
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "<script" not in page and "<link" not in page and " src=" not in page and "url(" not in page
    assert "@import" not in page and "https://" not in page.split("<main>")[0]
    # And every operation, webhook and schema of the document is on it, with the raw document linked
    doc = openapi_document()
    for path, item in doc["paths"].items():
        for method in item:
            assert f'<span class="verb {method}">{method.upper()}</span><span class="path">{path}</span>' in page
    for event in doc["webhooks"]:
        assert f'<span class="path">{event}</span>' in page
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    assert 'href="/openapi.json"' in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_docs_renders_in_a_browser_without_fetching_anything(api: ApiServer, tmp_path: Path) -> None:
    # Given the page open in headless Chromium
    assert CHROMIUM is not None
    with Chromium(CHROMIUM, tmp_path / "profile", width=1280, height=900) as browser:
        browser.open(f"{api.url}/docs")
        # When it is measured
        seen = browser.evaluate("""({
            sections: document.querySelectorAll('section.op').length,
            resources: performance.getEntriesByType('resource').length,
            overflow: document.documentElement.scrollWidth > window.innerWidth,
            links: [...document.querySelectorAll('a[href^="#"]')].filter(a => !document.getElementById(
                decodeURIComponent(a.getAttribute('href').slice(1)))).map(a => a.getAttribute('href')),
        })""")
    # Then every operation, webhook and schema has its section, nothing was fetched, nothing
    # overflows sideways, and every in-page link leads somewhere
    doc = openapi_document()
    expected = sum(len(v) for v in doc["paths"].values()) + len(doc["webhooks"]) + len(doc["components"]["schemas"])
    assert seen == {"sections": expected, "resources": 0, "overflow": False, "links": []}
