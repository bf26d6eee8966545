"""A producer that is not syndicate: the stdlib-only script in examples/producers submits over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate import Runtime
from syndicate.worker.host import run_until_settled
from tests.helpers import REPO, item_data, sandbox_accounts, simple_route
from tests.integration.test_api import ApiServer

TOKEN = "tok-cms-0123456789abcdef0123"
SCRIPT = REPO / "examples" / "producers" / "submit_http.py"


@pytest.fixture
def served(config_dir: Callable[..., Path], sqlite_url: str, outbox: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Runtime]]:
    monkeypatch.setenv("API_TOKEN_CMS", TOKEN)
    cfg = config_dir(accounts=sandbox_accounts("a1", "a2"), routes=[simple_route("na", ["en-US"], ["a1", "a2"])],
                     settings={"api": {"tokens": {"cms": {"token": "${API_TOKEN_CMS}"}}}})
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt, ApiServer(rt) as server:
        yield server.url, rt


def run_script(url: str, item: Path, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env["SYNDICATE_API_TOKEN"] = token
    return subprocess.run([sys.executable, str(SCRIPT), "--url", url, str(item)], env=env, capture_output=True,
                          text=True, timeout=60, cwd=item.parent)


def test_the_producer_script_submits_an_item_that_the_worker_then_publishes(
    served: tuple[str, Runtime], tmp_path: Path, outbox: Path
) -> None:
    # Given an item file and the API serving an embedded runtime
    url, rt = served
    item = tmp_path / "item.json"
    item.write_text(json.dumps(item_data(id="from-script", locales=["en-US"])), encoding="utf-8")
    # When the stdlib-only script posts it (twice), and the worker runs
    first = run_script(url, item)
    second = run_script(url, item)
    pubs = run_until_settled(rt, lambda: rt.ledger.publications(item_id="from-script"), threads=2,
                             timeout=timedelta(seconds=60))
    # Then the script reported the plan, then "unchanged", and both posts went out
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("from-script r1: created, 2 publication(s)")
    assert second.returncode == 0 and "unchanged" in second.stdout
    assert sorted((p.account, p.state) for p in pubs) == [("a1", "published"), ("a2", "published")]
    assert len(list(outbox.rglob("*.txt"))) == 2


def test_the_producer_script_prints_every_problem_of_a_refused_item(served: tuple[str, Runtime],
                                                                   tmp_path: Path) -> None:
    # Given an item with two problems
    url, _rt = served
    item = tmp_path / "bad.json"
    item.write_text(json.dumps(item_data(source_locale="en_US", canonical_url="ftp://x")), encoding="utf-8")
    # When the script posts it, and posts a good one with a wrong token
    refused = run_script(url, item)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(item_data()), encoding="utf-8")
    denied = run_script(url, good, token="wrong-token")
    # Then the first exits 2 listing both fields, the second exits 1 on the 401
    assert refused.returncode == 2
    assert "source_locale" in refused.stderr and "canonical_url" in refused.stderr
    assert denied.returncode == 1 and "HTTP 401" in denied.stderr
