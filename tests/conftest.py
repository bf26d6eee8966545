"""Shared fixtures: real Redis and PostgreSQL, isolated per test; config and item builders.

Redis: ``$SYNDICATE_TEST_REDIS_URL``, else 127.0.0.1:6379, else a ``redis-server`` from PATH on a
free port. PostgreSQL: ``$SYNDICATE_TEST_DATABASE_URL``, else postgres@127.0.0.1:5432/test.
Outside CI a missing service skips its tests with the reason; with ``CI=true`` it fails them.
Each test gets its own Redis namespace and its own PostgreSQL database, so test runs (and
developers) can share one server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port, write_config

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: Fixtures that reach a service, by the marker their tests get (:func:`pytest_collection_modifyitems`).
#: A test is marked when it uses one of them, directly or through any fixture that depends on them.
SERVICE_FIXTURES: dict[str, frozenset[str]] = {
    "redis": frozenset({"redis_server_url", "redis_url", "redis_namespace", "private_redis"}),
    "postgres": frozenset({"pg_server", "pg_url", "private_postgres", "private_pg_url"}),
}
#: Parametrized fixtures whose parameter decides the service: ``ledger_url[postgres]`` asks for
#: ``pg_url`` only at run time (``getfixturevalue``), so the fixture closure does not show it.
SERVICE_PARAMS: dict[tuple[str, str], str] = {("ledger_url", "postgres"): "postgres"}
#: Helpers of tests/cpu.py: a test that calls one measures the CPU time of large hostile input,
#: which takes seconds by design, so it is marked ``slow`` as the crash and soak tests are.
CPU_MEASUREMENTS = frozenset({"cpu_ratio", "cpu_limit", "cpu_seconds", "linear_scan_seconds"})
#: Tests that take seconds each by design (``path::function``: every parameter), marked ``slow``:
#: they wait out real timeouts, backoffs and Retry-After delays, run commands as child processes,
#: or sweep every channel and fault. The longest of the fast loop, as measured (README).
SLOW_TESTS: dict[str, str] = {
    "tests/integration/test_translation_transient.py::"
    "test_a_one_off_fault_is_retried_within_the_step_and_the_localization_succeeds": "waits the retry backoff",
    "tests/integration/test_translation_transient.py::"
    "test_the_retry_waits_as_long_as_the_engines_retry_after_says": "waits a Retry-After of 1 s",
    "tests/integration/test_translation_engines.py::"
    "test_each_engine_reports_an_unreachable_server_as_unavailable": "waits the retry backoff",
    "tests/integration/test_translation_engines.py::"
    "test_each_engine_gives_up_on_a_stalled_server_at_its_timeout": "waits a read timeout",
    "tests/integration/test_localization_recovery.py::"
    "test_a_one_off_503_delays_a_localization_by_a_retry_not_by_the_ledgers_next_attempt": "waits the retry backoff",
    "tests/integration/test_webhooks_pipeline.py::"
    "test_an_oversized_or_endless_success_answer_is_cut_off_and_the_message_counts_as_delivered": "waits a deadline",
    "tests/integration/test_first_hour_guides.py::test_the_guide_prints_what_it_shows": "runs each command",
    "tests/integration/test_cli.py::test_embedded_run_publishes_the_examples_then_says_nothing_is_new": "runs commands",
    "tests/integration/test_short_link_ledger.py::test_links_serve_redirects_and_writes_its_counts_when_stopped":
        "runs the command",
    "tests/integration/test_accounts_cli.py::test_accounts_list_shows_a_held_account_and_reset_puts_it_back":
        "runs commands",
    "tests/reliability/test_operator.py::test_the_resolve_command_settles_an_unconfirmed_row_and_refuses_bad_requests":
        "runs commands",
    "tests/reliability/test_operator.py::test_the_replay_command_lists_a_dry_run_then_replays": "runs commands",
    "tests/reliability/test_secrets_sweep.py::test_no_credential_appears_in_a_log_line_a_ledger_row_or_an_exception":
        "every path of every channel",
    "tests/reliability/test_fault_matrix.py::test_each_fault_ends_in_the_right_state_with_exactly_one_post_or_none":
        "every fault of every channel",
}


def service_markers(fixturenames: Collection[str], params: Mapping[str, object]) -> set[str]:
    """The service markers (``redis``, ``postgres``) of a test that uses ``fixturenames`` (its whole
    fixture closure) with parameters ``params``."""
    used = set(fixturenames)
    found = {marker for marker, names in SERVICE_FIXTURES.items() if used & names}
    found |= {marker for (name, value), marker in SERVICE_PARAMS.items() if params.get(name) == value}
    return found


def slow_by_design(test: object, where: str = "") -> bool:
    """Whether a test function takes seconds by design: a property-based test (hypothesis draws
    a hundred examples), a CPU-time measurement (it names a helper of tests/cpu.py), or one of
    :data:`SLOW_TESTS` (``where`` is its ``path::function``)."""
    if where in SLOW_TESTS or getattr(test, "is_hypothesis_test", False):
        return True
    code = getattr(test, "__code__", None)
    return code is not None and not CPU_MEASUREMENTS.isdisjoint((*code.co_names, *code.co_freevars))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by the services its fixtures reach, and ``slow`` when it is slow by design,
    so ``-m "not redis and not postgres and not slow"`` is the fast loop (README)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params: Mapping[str, object] = callspec.params if callspec is not None else {}
        markers = service_markers(getattr(item, "fixturenames", ()), params)
        if slow_by_design(getattr(item, "function", None), item.nodeid.split("[")[0]):
            markers.add("slow")
        for marker in sorted(markers):
            if item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: the Redis- and PostgreSQL-backed tests must run in CI", pytrace=False)
    pytest.skip(reason)


def _redis_ok(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        ok = bool(client.ping())
        client.close()
        return ok
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """URL of a reachable Redis server (started from PATH if none answers)."""
    url = os.environ.get("SYNDICATE_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
    if _redis_ok(url):
        yield url
        return
    exe = shutil.which("redis-server")
    if exe is None:
        _unavailable(f"Redis is not reachable at {url} and redis-server is not on PATH")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        if _redis_ok(url):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        _unavailable(f"started redis-server on port {port} but it does not answer")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """The Redis URL (tests isolate themselves with :func:`redis_namespace`)."""
    return redis_server_url


@pytest.fixture
def redis_namespace(redis_server_url: str) -> Iterator[str]:
    """A namespace unique to this test; its keys are deleted afterwards."""
    import redis

    ns = f"syndicate-test-{uuid.uuid4().hex[:10]}"
    yield ns
    client = redis.Redis.from_url(redis_server_url)
    keys = list(client.scan_iter(match=f"{ns}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def _pg_admin_url() -> str:
    return os.environ.get("SYNDICATE_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


def _pg_ok(url: str) -> str | None:
    """None when ``url`` answers, else the first line of the error."""
    import psycopg

    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _pg_binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


def _start_postgres(tmp: Path) -> tuple[str, Callable[[], None]] | str:
    """Start a throw-away PostgreSQL from PATH (or /usr/lib/postgresql); a string is the reason it failed."""
    bindir = _pg_binaries()
    if bindir is None:
        return "initdb is not on PATH"
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: use the postgres system user if there is one
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
        prefix = ["runuser", "-u", "postgres", "--"]
        tmp.chmod(0o777)
    data, port = tmp / "pgdata", free_port()
    init = subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                          capture_output=True, text=True)
    if init.returncode != 0:
        return f"initdb failed: {init.stderr.strip().splitlines()[-1:]}"
    start = subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(tmp / "pg.log"), "-o",
                            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1", "start"],
                           capture_output=True, text=True)
    if start.returncode != 0:
        return f"pg_ctl start failed: {start.stderr.strip()}"

    def stop() -> None:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """An admin URL of a reachable PostgreSQL server (a throw-away one is started if none answers)."""
    url = _pg_admin_url()
    problem = _pg_ok(url)
    if problem is None:
        yield url
        return
    # Not under pytest's tmp dir: its parents are private to root, and the server may run as postgres.
    tmp = Path(tempfile.mkdtemp(prefix="syndicate-pg-"))
    started = _start_postgres(tmp)
    if isinstance(started, str):
        shutil.rmtree(tmp, ignore_errors=True)
        _unavailable(f"PostgreSQL is not reachable at {url} ({problem}) and none could be started: {started}")
        return
    own_url, stop = started
    try:
        yield own_url
    finally:
        stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test (SQLAlchemy URL); dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"syndicate_t_{uuid.uuid4().hex[:12]}"
    admin = pg_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(pg_server).set(drivername="postgresql+psycopg", database=name)
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite ledger file in the test's directory."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both ledger back-ends: each test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sandbox outbox for this test (``SYNDICATE_OUTBOX``)."""
    path = tmp_path / "outbox"
    monkeypatch.setenv("SYNDICATE_OUTBOX", str(path))
    return path


@pytest.fixture
def config_dir(tmp_path: Path) -> Callable[..., Path]:
    """Build a config directory: ``config_dir(routes={...}, accounts={...})``; see tests/helpers.py."""

    def build(**kw: Any) -> Path:
        return write_config(tmp_path / f"config-{uuid.uuid4().hex[:6]}", **kw)

    return build


@pytest.fixture
def loopback_fetches() -> Iterator[None]:
    """Let this test's media URLs lead to loopback fakes (``syndicate.base.addresses``); loopback only."""
    from syndicate.base.addresses import allow_loopback_fetches

    allow_loopback_fetches(True)
    yield
    allow_loopback_fetches(False)
