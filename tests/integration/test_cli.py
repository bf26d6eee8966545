"""The command line, run as users run it: real processes, real Redis and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import REPO

EXAMPLES = sorted(str(p) for p in (REPO / "examples" / "content").glob("*.yaml"))


def syndicate(*args: str, env: dict[str, str], cwd: Path, stdin: bytes | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syndicate", *args], cwd=cwd, env=env, input=stdin.decode()
                          if stdin else None, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path


@pytest.fixture
def env(workdir: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    e["SYNDICATE_OUTBOX"] = str(workdir / "outbox")
    return e


def report_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def comparable(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
    keys = ("item_id", "revision", "locale", "channel", "account", "slot", "state", "tagged_url", "utm_source",
            "utm_medium", "utm_campaign", "utm_content")
    return sorted(tuple(r[k] for k in keys) for r in rows if r["slot"] == "0")


def test_embedded_run_publishes_the_examples_then_says_nothing_is_new(workdir: Path, env: dict[str, str]) -> None:
    # When the README's main job runs
    first = syndicate("run", "--now", *EXAMPLES, env=env, cwd=workdir)
    assert first.returncode == 0, first.stderr
    assert "this run: published 25, skipped 6 by the routes' rules" in first.stdout
    rows = report_rows(syndicate("report", env=env, cwd=workdir).stdout)
    # Then every route's locales and accounts got the items, each with a back-link and UTM fields
    published = [r for r in rows if r["state"] == "published"]
    assert {r["locale"] for r in published} == {"en-US", "de-DE", "fr-FR", "ja-JP"}
    assert all(r["permalink"].startswith("file://") and Path(r["permalink"][7:]).exists() for r in published)
    assert all(r["utm_content"] in r["tagged_url"] for r in rows)
    skipped = [r for r in rows if r["state"] == "skipped"]
    assert skipped and all("buying stages" in r["reason"] and not r["last_error"] for r in skipped)
    # And running it again publishes nothing new and says so
    second = syndicate("run", "--now", *EXAMPLES, env=env, cwd=workdir)
    assert second.returncode == 0
    assert "nothing new to publish" in second.stdout
    assert report_rows(syndicate("report", env=env, cwd=workdir).stdout) == rows


def test_a_broken_routes_file_gives_every_error_and_exit_2_and_the_worker_refuses(
    workdir: Path, env: dict[str, str]
) -> None:
    bad = workdir / "config" / "routes" / "dach.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("[de-DE]", "[de-DE, de_AT]")
                   .replace("Europe/Berlin", "Mars/Base").replace("x-dach", "x-nowhere"), encoding="utf-8")
    out = syndicate("validate", env=env, cwd=workdir)
    assert out.returncode == 2
    lines = [ln.strip() for ln in out.stderr.splitlines() if ln.startswith("  ")]
    assert len(lines) == 3
    assert all(ln.startswith(f"{Path('config') / 'routes' / 'dach.yaml'}:") for ln in lines)
    assert any(": locales.1: 'de_AT' uses '_'" in ln for ln in lines)
    assert any(": timezone: " in ln for ln in lines)
    assert any(": accounts.0: unknown account 'x-nowhere'" in ln for ln in lines)
    worker = syndicate("worker", env=env, cwd=workdir, timeout=60)
    assert worker.returncode == 2
    assert "locales.1" in worker.stderr


def test_invalid_item_is_refused_whole_with_exit_2(workdir: Path, env: dict[str, str]) -> None:
    bad = workdir / "bad.yaml"
    bad.write_text("id: x\nrevision: 0\napproved: true\n", encoding="utf-8")
    out = syndicate("enqueue", EXAMPLES[0], str(bad), env=env, cwd=workdir)
    assert out.returncode == 2
    assert "item 'x': revision: Input should be greater than or equal to 1" in out.stderr
    assert "nothing was submitted" in out.stderr
    assert syndicate("status", "launch-2026-analytics", env=env, cwd=workdir).returncode == 1


def test_worker_on_redis_and_postgres_publishes_items_enqueued_from_another_process(
    workdir: Path, env: dict[str, str], pg_url: str, redis_url: str, redis_namespace: str, tmp_path: Path
) -> None:
    # Given the embedded run's report as the reference
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    shutil.copytree(workdir / "config", ref_dir / "config")
    ref_env = {**env, "SYNDICATE_OUTBOX": str(ref_dir / "outbox")}
    assert syndicate("run", "--now", *EXAMPLES, env=ref_env, cwd=ref_dir).returncode == 0
    reference = comparable(report_rows(syndicate("report", env=ref_env, cwd=ref_dir).stdout))
    # And two worker processes on Redis with a PostgreSQL ledger, each with 2 publishing threads and
    # 1 for intake and localization
    renv = {**env, "SYNDICATE_DATABASE_URL": pg_url, "SYNDICATE_REDIS_URL": redis_url,
            "SYNDICATE_REDIS_NAMESPACE": redis_namespace, "SYNDICATE_LOG_FORMAT": "json"}
    assert syndicate("migrate", env=renv, cwd=workdir).returncode == 0
    worker = subprocess.Popen([sys.executable, "-m", "syndicate", "worker", "--processes", "2", "--threads", "2",
                               "--prepare-threads", "1"], cwd=workdir,
                              env=renv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # When the items are enqueued from another process
        enq = syndicate("enqueue", "--now", *EXAMPLES, env=renv, cwd=workdir)
        assert enq.returncode == 0, enq.stderr
        deadline = time.monotonic() + 90
        rows: list[dict[str, str]] = []
        while time.monotonic() < deadline:
            rows = report_rows(syndicate("report", env=renv, cwd=workdir).stdout)
            if rows and all(r["state"] in ("published", "skipped") for r in rows if r["slot"] == "0"):
                break
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    # Then the report matches the embedded run's, and the worker logged JSON and stopped cleanly
    assert comparable(rows) == reference
    assert worker.returncode == 0, err
    events = [json.loads(ln) for ln in err.splitlines() if ln.startswith("{")]
    assert any(e.get("event") == "publication.published" for e in events)
    assert [(e["threads"], e["prepare_threads"]) for e in events if e.get("event") == "worker.started"] == [
        (2, 1), (2, 1)]
    assert any(e.get("event") == "worker.stopped" for e in events)
