"""/healthz, /readyz and /metrics of real worker processes, over real sockets; `syndicate health`."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from syndicate import Runtime, submit
from syndicate.config.loading import load_config
from syndicate.ledger import Ledger
from syndicate.operations.health import build_ops_server
from tests.helpers import REPO, free_port, item_data, sandbox_accounts, simple_route, wait_until_consuming


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"worker exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if get(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer:\n{log.read_text()[-3000:]}")


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = get(url)
    assert status == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(body.decode()) for s in fam.samples}


def total(values: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(v for (n, lab), v in values.items() if n == name and all((k, w) in lab for k, w in labels.items()))


@contextmanager
def worker(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "syndicate", "worker", *args], cwd=REPO, env=env,
                                stdout=out, stderr=out)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_published(rt: Runtime, n: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if rt.ledger.count_by_state().get("published", 0) >= n:
            return
        time.sleep(0.1)
    raise AssertionError(f"not published in time: {rt.ledger.count_by_state()}")


def setup(config_dir: Callable[..., Path], tmp_path: Path, pg_url: str, redis_url: str, redis_namespace: str,
          accounts: int) -> tuple[Path, dict[str, str]]:
    ids = [f"s{i}" for i in range(accounts)]
    cfg = config_dir(accounts=sandbox_accounts(*ids), routes=[simple_route("r", ["en-US"], ids)])
    env = {**os.environ, "SYNDICATE_DATABASE_URL": pg_url, "SYNDICATE_REDIS_URL": redis_url,
           "SYNDICATE_REDIS_NAMESPACE": redis_namespace, "SYNDICATE_OUTBOX": str(tmp_path / "outbox"),
           "SYNDICATE_CONFIG": str(cfg), "SYNDICATE_LOG_FORMAT": "json"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return cfg, env


def test_worker_serves_health_readiness_and_metrics_on_one_port(
    config_dir: Callable[..., Path], tmp_path: Path, pg_url: str, redis_url: str, redis_namespace: str
) -> None:
    # Given a worker process with --metrics-port, on Redis and PostgreSQL
    cfg, env = setup(config_dir, tmp_path, pg_url, redis_url, redis_namespace, accounts=2)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (Runtime.create(config=cfg, database_url=pg_url, redis_url=redis_url, namespace=redis_namespace) as rt,
          worker(["--threads", "2", "--metrics-port", str(port), "--metrics-host", "127.0.0.1"], env,
                 tmp_path / "worker.log") as proc):
        wait_for(f"{base}/healthz", proc, tmp_path / "worker.log")
        # When a producer submits an item for two accounts and the worker publishes it
        ready_status, ready_body = get(f"{base}/readyz")
        submit(item_data(), runtime=rt, ignore_schedule=True)
        wait_published(rt, 2)
        values = scrape(f"{base}/metrics")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    # Then /readyz said every check passed
    assert ready_status == 200
    checks = json.loads(ready_body)["checks"]
    assert {k: v["ok"] for k, v in checks.items()} == {"broker": True, "ledger": True, "config": True}
    # And /metrics counted both posts, timed both platform calls and measured their lateness
    assert values[("syndicate_publications", (("channel", "sandbox"), ("state", "published")))] == 2
    assert total(values, "syndicate_publish_outcomes_total", channel="sandbox", outcome="published") == 2
    assert total(values, "syndicate_publish_call_seconds_count", channel="sandbox", result="ok") == 2
    assert total(values, "syndicate_schedule_lateness_seconds_count", channel="sandbox") == 2
    assert total(values, "syndicate_actor_messages_total", actor="publish", result="ok") == 2
    assert total(values, "syndicate_localizations_total", outcome="done") == 1
    # And queue depth was read from the broker, all queues drained
    assert values[("syndicate_broker_up", ())] == 1
    assert total(values, "syndicate_queue_messages", queue="syndicate.publish", kind="ready") == 0
    assert code == 0


def test_multiprocess_worker_serves_the_merged_counts_of_its_children(
    config_dir: Callable[..., Path], tmp_path: Path, pg_url: str, redis_url: str, redis_namespace: str
) -> None:
    # Given an operator's metrics directory holding a stale file from an earlier run
    cfg, env = setup(config_dir, tmp_path, pg_url, redis_url, redis_namespace, accounts=3)
    mdir = tmp_path / "prom"
    mdir.mkdir()
    (mdir / "counter_999999.db").write_bytes(b"stale")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(mdir)
    # (each child holds one message of a queue at a time, so neither can take every post before the
    # other polls)
    env["dramatiq_queue_prefetch"] = "1"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (Runtime.create(config=cfg, database_url=pg_url, redis_url=redis_url, namespace=redis_namespace) as rt,
          worker(["--processes", "2", "--threads", "1", "--metrics-port", str(port),
                  "--metrics-host", "127.0.0.1"], env, tmp_path / "worker.log") as proc):
        wait_for(f"{base}/healthz", proc, tmp_path / "worker.log")
        wait_until_consuming(rt.broker, 2, [proc])
        for i in range(20):
            submit(item_data(id=f"item-{i}"), runtime=rt, ignore_schedule=True)
        wait_published(rt, 60)
        values = scrape(f"{base}/metrics")
        files = sorted(p.name for p in mdir.glob("*.db"))
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    # Then the parent's scrape holds all sixty posts, summed over the children
    assert total(values, "syndicate_publish_outcomes_total", outcome="published") == 60
    assert total(values, "syndicate_publish_call_seconds_count", result="ok") == 60
    # And the children wrote their own files (two processes), the stale one was removed first
    pids = {name.rsplit("_", 1)[1] for name in files if name.startswith("counter_")}
    assert "counter_999999.db" not in files
    assert len(pids) == 2
    assert code == 0


def test_readyz_answers_503_and_names_the_failing_checks(tmp_path: Path, config_dir: Callable[..., Path]) -> None:
    # Given an ops server whose ledger and broker refuse connections, with a valid config
    cfg = config_dir()
    with Ledger("postgresql+psycopg://nobody@127.0.0.1:1/none") as ledger:
        ops = build_ops_server("127.0.0.1", 0, ledger=ledger, redis_url="redis://127.0.0.1:1/0", namespace="ns",
                               load_config=functools.partial(load_config, cfg), queues=["syndicate.intake"]).start()
        try:
            # When probes ask
            live = get(f"http://127.0.0.1:{ops.port}/healthz")
            ready_status, ready_body = get(f"http://127.0.0.1:{ops.port}/readyz")
            metrics_status, metrics_body = get(f"http://127.0.0.1:{ops.port}/metrics")
        finally:
            ops.stop()
    # Then the process is alive but not ready, naming what failed
    assert live[0] == 200
    assert ready_status == 503
    checks: dict[str, Any] = json.loads(ready_body)["checks"]
    assert (checks["broker"]["ok"], checks["ledger"]["ok"], checks["config"]["ok"]) == (False, False, True)
    assert "Connection" in checks["broker"]["detail"] or "refused" in checks["broker"]["detail"].lower()
    # And /metrics still answers, reporting both back-ends down
    assert metrics_status == 200
    assert b"syndicate_ledger_up 0.0" in metrics_body and b"syndicate_broker_up 0.0" in metrics_body


def _health(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syndicate", "health", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


def test_health_command_exits_0_when_ready_and_1_when_the_broker_is_down(
    config_dir: Callable[..., Path], pg_url: str, redis_url: str
) -> None:
    # Given a migrated ledger and a valid config
    cfg = config_dir()
    Ledger(pg_url).migrate()
    env = {**os.environ, "SYNDICATE_DATABASE_URL": pg_url, "SYNDICATE_REDIS_URL": redis_url,
           "SYNDICATE_CONFIG": str(cfg)}
    # When `syndicate health` runs with the real broker, then with one that refuses connections
    good = _health([], env)
    bad = _health(["--format", "json"], {**env, "SYNDICATE_REDIS_URL": "redis://127.0.0.1:1/0"})
    # Then the first exits 0 listing every check, the second exits 1 naming the broker
    assert good.returncode == 0, good.stdout + good.stderr
    assert [line.split()[:2] for line in good.stdout.splitlines()] == [["broker", "ok"], ["ledger", "ok"],
                                                                       ["config", "ok"]]
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["status"] == "not ready" and report["checks"]["broker"]["ok"] is False


def test_health_command_probes_a_running_process_by_url(config_dir: Callable[..., Path], sqlite_url: str) -> None:
    # Given an ops server that is alive but whose broker is down
    with Ledger(sqlite_url) as ledger:
        ledger.migrate()
        ops = build_ops_server("127.0.0.1", 0, ledger=ledger, redis_url="redis://127.0.0.1:1/0", namespace="ns",
                               load_config=functools.partial(load_config, config_dir()), queues=[]).start()
        try:
            # When `syndicate health --url` probes /healthz and /readyz
            live = _health(["--url", f"http://127.0.0.1:{ops.port}/healthz"], dict(os.environ))
            ready = _health(["--url", f"http://127.0.0.1:{ops.port}/readyz"], dict(os.environ))
        finally:
            ops.stop()
    # Then liveness passes (exit 0) and readiness does not (exit 1)
    assert live.returncode == 0 and "ready" in live.stdout
    assert ready.returncode == 1 and "NOT READY" in ready.stdout
