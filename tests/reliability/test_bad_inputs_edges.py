"""The bad-input corpus through the other two doors: every item the Python API refuses
(``test_bad_inputs.py``) is refused by ``syndicate enqueue`` (exit 2, every problem as
``file:line: item 'id': field: reason``, nothing submitted) and by ``POST /v1/items`` (422, the
field's path in the problems), and a refused item stores nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from syndicate import Runtime
from syndicate.base.inputs import InputError, load_json, load_yaml
from syndicate.cli import main
from syndicate.ledger.schema import items
from tests.helpers import write_config
from tests.integration.test_api import ApiServer
from tests.reliability.corpus import ITEM_CASES, ItemCase

REFUSED = [c for c in ITEM_CASES if c.outcome == "refused"]
TOKEN = "tok-corpus-0123456789abcdef"


def as_data(case: ItemCase) -> object | None:
    """The case's bytes as data, or None when the strict readers refuse the bytes themselves."""
    try:
        return (load_json if case.fmt == "json" else load_yaml)(case.raw, "case").data
    except InputError:
        return None


@dataclass(frozen=True)
class Enqueued:
    result: Result
    paths: dict[str, Path]
    ledger_items: int


@pytest.fixture(scope="module")
def enqueued(tmp_path_factory: pytest.TempPathFactory) -> Enqueued:
    # Given every refused case as a file (named by its index: the names hold spaces and slashes)
    base = tmp_path_factory.mktemp("enqueue")
    cfg = write_config(base / "config")
    paths = {}
    for i, case in enumerate(REFUSED):
        paths[case.name] = base / f"case{i:03d}.{case.fmt}"
        paths[case.name].write_bytes(case.raw)
    url = f"sqlite:///{base / 'ledger.db'}"
    env = {"SYNDICATE_DATABASE_URL": url, "SYNDICATE_CONFIG": str(cfg), "SYNDICATE_REDIS_URL": None}
    # When they are enqueued in one command
    result = CliRunner().invoke(main, ["enqueue", *map(str, paths.values())], env=env)
    with Runtime.create(config=cfg, database_url=url, redis_url="") as rt, rt.ledger.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(items)).scalar_one()
    return Enqueued(result, paths, stored)


def test_enqueue_refuses_the_whole_corpus_with_exit_2_and_submits_nothing(enqueued: Enqueued) -> None:
    assert enqueued.result.exit_code == 2, enqueued.result.output
    assert f"{len(REFUSED)} of {len(REFUSED)} item file(s) refused; nothing was submitted" in enqueued.result.stderr
    assert enqueued.ledger_items == 0


@pytest.mark.parametrize("case", REFUSED, ids=[c.name for c in REFUSED])
def test_enqueue_names_the_file_the_line_the_field_and_the_reason(case: ItemCase, enqueued: Enqueued) -> None:
    # Then the refusal of each file names the file (and the line, where the bytes became data),
    # the field and the reason
    path = str(enqueued.paths[case.name])
    lines = [ln for ln in enqueued.result.stderr.splitlines() if ln.startswith(f"{path}:")]
    assert lines, enqueued.result.stderr[:2000]
    text = "\n".join(lines)
    if case.field:
        assert case.field in text, text
    if case.reason:
        assert case.reason in text, text
    if isinstance(as_data(case), dict) and "not approved" not in text:
        assert all(re.match(rf"{re.escape(path)}:\d+: item\b", ln) for ln in lines), text


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, Runtime]]:
    base = tmp_path_factory.mktemp("api")
    cfg = write_config(base / "config", settings={"api": {"tokens": {"cms": {"token": "${API_TOKEN_CMS}"}}}})
    with (Runtime.create(config=cfg, database_url=f"sqlite:///{base / 'ledger.db'}", redis_url="",
                         environ={"API_TOKEN_CMS": TOKEN}) as rt,
          ApiServer(rt) as server):
        yield server, rt


JSON_CASES = [c for c in REFUSED if c.fmt == "json" or as_data(c) is not None]


@pytest.mark.parametrize("case", JSON_CASES, ids=[c.name for c in JSON_CASES])
def test_the_api_answers_422_naming_the_field_and_the_reason(case: ItemCase,
                                                             api: tuple[ApiServer, Runtime]) -> None:
    # Given the case as a JSON request body (YAML cases that parse are sent as the JSON of their data)
    server, rt = api
    body = case.raw if case.fmt == "json" else json.dumps(as_data(case)).encode()
    # When it is posted
    answer = requests.post(f"{server.url}/v1/items", data=body, timeout=30,
                           headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    # Then it is refused with 422 and problems that name the field and the reason, and nothing is stored
    assert answer.status_code == 422, answer.text[:500]
    problems = answer.json()["problems"]
    assert problems, answer.text[:500]
    if case.field:
        assert any(case.field in p["field"] or case.field in p["reason"] for p in problems), problems
    if case.reason:
        assert any(case.reason in p["reason"] for p in problems), problems
    with rt.ledger.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(items)).scalar_one() == 0
