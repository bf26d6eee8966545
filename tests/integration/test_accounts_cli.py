"""``syndicate accounts``: see which accounts are held and put one back in service."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from syndicate.ledger import Ledger
from tests.helpers import REPO


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    return subprocess.run([sys.executable, "-m", "syndicate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def test_accounts_list_shows_a_held_account_and_reset_puts_it_back(tmp_path: Path) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")
    led = Ledger(f"sqlite:///{tmp_path / 'syndicate.db'}")
    led.migrate()
    led.set_account_status("x-na", "needs_credentials", "token expired", actor="test")
    rows = {r["account"]: r for r in json.loads(run("accounts", "list", "--format", "json", cwd=tmp_path).stdout)}
    assert rows["x-na"]["status"] == "needs_credentials" and rows["x-na"]["reason"] == "token expired"
    assert rows["linkedin-na"]["status"] == "ok"
    out = run("accounts", "reset", "x-na", "--by", "ops", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == "x-na: needs_credentials -> ok"
    assert led.account_status("x-na") == ("ok", "reset from needs_credentials")
    assert any(e["kind"] == "account.ok" and e["actor"] == "cli:ops" for e in led.events())
    assert run("accounts", "reset", "nope", cwd=tmp_path).returncode == 2
