"""The API against its own OpenAPI document: schemathesis generates requests from /openapi.json
(valid and invalid), sends them over a real socket, and checks every answer against the document."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from syndicate import Runtime, submit
from tests.helpers import item_data, sandbox_accounts, simple_route
from tests.integration.test_api import ApiServer

TOKEN = "tok-schemathesis-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api_schema(config_dir: Callable[..., Path], pg_url: str, outbox: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[schemathesis.BaseSchema]:
    """A live API on PostgreSQL (with one stored item, so reads can succeed), and its loaded document."""
    monkeypatch.setenv("API_TOKEN_ST", TOKEN)
    cfg = config_dir(accounts=sandbox_accounts("a1"), routes=[simple_route("na", ["en-US"], ["a1"])],
                     settings={"api": {"max_body_bytes": 65536, "tokens": {"st": {"token": "${API_TOKEN_ST}"}}}})
    with Runtime.create(config=cfg, database_url=pg_url, redis_url="") as rt:
        submit(item_data(id="stored-item", campaign="spring"), runtime=rt, ignore_schedule=True)
        with ApiServer(rt) as server:
            yield schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def _run(strategy: SearchStrategy[schemathesis.Case], examples: int, seen: Counter[str]) -> None:
    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])
        seen[f"{case.operation.label} {response.status_code}"] += 1

    check()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_conforms_to_the_openapi_document(api_schema: schemathesis.BaseSchema,
                                                       mode: GenerationMode) -> None:
    # Given requests generated from /openapi.json, valid by the document (then violating it)
    seen: Counter[str] = Counter()
    # When each is sent over the socket with a valid token
    for result in api_schema.get_all_operations():
        operation = result.ok()
        try:
            _run(operation.as_strategy(generation_mode=mode, headers=AUTH), 25, seen)
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to violate (no parameters, no body)
    # Then no answer was a server error, and every status, content type, header and body was the
    # documented one (call_and_validate raises otherwise). "Positive data is accepted" is not asked:
    # items valid by the schema may still break rules it cannot express (registered locales).
    assert not [k for k in seen if k.endswith((" 500", " 502", " 503"))]
    if mode is GenerationMode.NEGATIVE:
        assert any(k.startswith("POST /v1/items ") and k.endswith(" 422") for k in seen), seen


def test_the_documented_example_item_is_accepted(api_schema: schemathesis.BaseSchema) -> None:
    # Given the example item of POST /v1/items in the document
    operation = api_schema["/v1/items"]["POST"]
    seen: Counter[str] = Counter()
    # When the examples phase sends it
    for strategy in api_schema.get_strategies_from_examples(operation):
        _run(strategy, 1, seen)
    # Then it was stored (201) and the answer matched the document
    assert seen["POST /v1/items 201"] == 1, seen
