"""Direct queue producers: messages pushed with raw Redis commands (no syndicate, no Dramatiq in the
producer) are consumed by a real worker process, per docs/message-format.md."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate import Runtime, submit
from tests.helpers import REPO, item_data, sandbox_accounts, simple_route

EXAMPLES = REPO / "examples" / "producers"


def producer_env(redis_url: str, namespace: str) -> dict[str, str]:
    """A producer's environment: only the Redis settings, no ledger, no config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env.update(SYNDICATE_REDIS_URL=redis_url, SYNDICATE_REDIS_NAMESPACE=namespace)
    return env


def send_python(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-I", str(EXAMPLES / "enqueue.py"), *args], env=env,
                          capture_output=True, text=True, timeout=30, cwd=EXAMPLES)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"sent {args[0]}(")


def send_shell(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(["sh", str(EXAMPLES / "enqueue.sh"), *args[1:]], env=env, capture_output=True, text=True,
                          timeout=30, cwd=EXAMPLES)
    assert done.returncode == 0, done.stderr


@contextmanager
def worker(cfg: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "syndicate", "worker", "--threads", "2", "--no-dispatcher",
                                 "--config", str(cfg)], cwd=REPO, env=env, stdout=out, stderr=out)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until(check: Callable[[], bool], log: Path, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen in time:\n{log.read_text()[-4000:]}")


@pytest.mark.parametrize("producer", ["python", "redis-cli"])
def test_raw_redis_messages_drive_a_stored_item_to_published(
    producer: str, config_dir: Callable[..., Path], tmp_path: Path, pg_url: str, redis_url: str,
    redis_namespace: str
) -> None:
    if producer == "redis-cli" and shutil.which("redis-cli") is None:
        pytest.skip("redis-cli is not installed")
    send = send_python if producer == "python" else send_shell
    # Given an item stored in the ledger with no wake-up sent (stored through an in-process broker),
    # and a worker without a dispatcher, so that only our raw messages can move it
    cfg = config_dir(accounts=sandbox_accounts("a1", "a2"), routes=[simple_route("na", ["en-US"], ["a1", "a2"])])
    with Runtime.create(config=cfg, database_url=pg_url, redis_url="") as stored:
        sub = submit(item_data(id="raw-item", locales=["en-US"]), runtime=stored, ignore_schedule=True)
        env = {**os.environ, "SYNDICATE_DATABASE_URL": pg_url, "SYNDICATE_REDIS_URL": redis_url,
               "SYNDICATE_REDIS_NAMESPACE": redis_namespace, "SYNDICATE_OUTBOX": str(tmp_path / "outbox"),
               "SYNDICATE_LOG_FORMAT": "json"}
        log = tmp_path / "worker.log"
        penv = producer_env(redis_url, redis_namespace)
        with worker(cfg, env, log):
            # When the producer pushes intake(item, revision) with raw Redis commands
            send(penv, "intake", sub.item_id, str(sub.revision))
            # Then the worker localizes it (intake → localize): its publications become ready
            wait_until(lambda: all(p.ready for p in stored.ledger.publications(item_id="raw-item")), log,
                       "localization")
            # And when the due rows are marked enqueued and the producer pushes publish(id) for each
            due = stored.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
            assert len(due) == 2
            for p in due:
                send_python(penv, "publish", str(p.id))
                send_python(penv, "publish", str(p.id))  # a duplicate: harmless
            wait_until(lambda: all(p.state == "published" for p in stored.ledger.publications(item_id="raw-item")),
                       log, "publishing")
        pubs = stored.ledger.publications(item_id="raw-item")
    # Then both posts went out exactly once each, and the worker logged the raw messages' ids
    assert sorted((p.account, p.state) for p in pubs) == [("a1", "published"), ("a2", "published")]
    assert len(list((tmp_path / "outbox").rglob("*.txt"))) == 2
    assert '"actor": "intake"' in log.read_text()


def test_a_malformed_message_costs_a_consumer_restart_not_the_worker(
    config_dir: Callable[..., Path], tmp_path: Path, pg_url: str, redis_url: str, redis_namespace: str
) -> None:
    import redis

    # Given a running worker
    cfg = config_dir()
    env = {**os.environ, "SYNDICATE_DATABASE_URL": pg_url, "SYNDICATE_REDIS_URL": redis_url,
           "SYNDICATE_REDIS_NAMESPACE": redis_namespace, "SYNDICATE_LOG_FORMAT": "json"}
    log = tmp_path / "worker.log"
    client = redis.Redis.from_url(redis_url)
    with Runtime.create(config=cfg, database_url=pg_url, redis_url="") as stored:
        sub = submit(item_data(id="after-bad", locales=["en-US"]), runtime=stored, ignore_schedule=True)
        try:
            with worker(cfg, env, log) as proc:
                # When a producer pushes a message with a field Dramatiq does not know
                key = f"{redis_namespace}:syndicate.intake"
                client.hset(f"{key}.msgs", "bad-1", b'{"queue_name":"syndicate.intake","actor_name":"intake",'
                                                     b'"args":["x",1],"kwargs":{},"options":{},"priority":1}')
                client.rpush(key, "bad-1")
                # Then the queue's consumer fails to decode it and restarts (the worker process lives on)
                wait_until(lambda: "Restarting consumer" in log.read_text(), log, "the consumer restart")
                assert "Failed to decode message" in log.read_text()
                # And a well-formed message sent afterwards is processed
                send_python(producer_env(redis_url, redis_namespace), "intake", sub.item_id, "1")
                wait_until(lambda: all(p.ready for p in stored.ledger.publications(item_id="after-bad")), log,
                           "the good message")
                assert proc.poll() is None
        finally:
            client.close()
