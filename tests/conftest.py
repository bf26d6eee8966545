"""Shared fixtures: real Redis, PostgreSQL and RabbitMQ, isolated per test; config and item builders.

Redis: ``$SYNDICATE_TEST_REDIS_URL``, else 127.0.0.1:6379, else a ``redis-server`` from PATH on a
free port. PostgreSQL: ``$SYNDICATE_TEST_DATABASE_URL``, else postgres@127.0.0.1:5432/test.
RabbitMQ: ``$SYNDICATE_TEST_RABBITMQ_URL``, else guest@127.0.0.1:5672.
Outside CI a missing service skips its tests with the reason; with ``CI=true`` it fails them.
Each test gets its own Redis namespace, its own PostgreSQL database and its own RabbitMQ virtual
host, so test runs (and developers) can share one server. The ``broker`` fixture runs a test on
each broker: Redis, and RabbitMQ without Redis (the ledger keeps leases and caps).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
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
    "rabbitmq": frozenset({"rabbitmq_server_url", "rabbitmq_url"}),
}
#: Parametrized fixtures whose parameter decides the service: ``ledger_url[postgres]`` asks for
#: ``pg_url`` only at run time (``getfixturevalue``), so the fixture closure does not show it.
SERVICE_PARAMS: dict[tuple[str, str], str] = {("ledger_url", "postgres"): "postgres", ("broker", "redis"): "redis",
                                              ("broker", "rabbitmq"): "rabbitmq"}
#: Helpers of tests/cpu.py: a test that calls one measures the CPU time of large hostile input,
#: which takes seconds by design, so it is marked ``slow`` as the crash and soak tests are.
CPU_MEASUREMENTS = frozenset({"cpu_ratio", "cpu_limit", "cpu_seconds", "linear_scan_seconds"})
#: Names whose use makes a test slow by design: it starts a child process (a Python interpreter
#: or a browser costs about a second of CPU to start) or draws examples with hypothesis.
SLOW_NAMES = CPU_MEASUREMENTS | {"subprocess", "Popen", "given"}
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
    "tests/integration/test_bulk_cli.py::"
    "test_a_long_import_shows_its_progress_on_a_terminal_and_nothing_on_a_pipe": "runs commands on a terminal",
    "tests/integration/test_short_link_ledger.py::test_links_serve_redirects_and_writes_its_counts_when_stopped":
        "runs the command",
    "tests/integration/test_accounts_cli.py::test_accounts_list_shows_a_held_account_and_reset_puts_it_back":
        "runs commands",
    "tests/integration/test_calendar.py::test_after_the_readme_run_the_calendar_shows_every_post_in_every_format":
        "runs commands",
    "tests/integration/test_calendar.py::test_the_html_calendar_renders_in_headless_chromium": "runs Chromium",
    "tests/reliability/test_operator.py::test_the_resolve_command_settles_an_unconfirmed_row_and_refuses_bad_requests":
        "runs commands",
    "tests/reliability/test_operator.py::test_the_replay_command_lists_a_dry_run_then_replays": "runs commands",
    "tests/reliability/test_secrets_sweep.py::test_no_credential_appears_in_a_log_line_a_ledger_row_or_an_exception":
        "every path of every channel",
    "tests/reliability/test_fault_matrix.py::test_each_fault_ends_in_the_right_state_with_exactly_one_post_or_none":
        "every fault of every channel",
    "tests/reliability/test_upload_faults.py::test_each_upload_fault_ends_in_the_right_state_with_one_post_and_its_image":
        "every upload fault of every channel that uploads",
    "tests/reliability/test_first_comment_faults.py::"
    "test_a_failing_comment_call_leaves_the_comment_under_its_post_once_or_not_at_all":
        "every comment fault of X and LinkedIn",
}


def service_markers(fixturenames: Collection[str], params: Mapping[str, object]) -> set[str]:
    """The service markers (``redis``, ``postgres``, ``rabbitmq``) of a test that uses ``fixturenames`` (its whole
    fixture closure) with parameters ``params``."""
    used = set(fixturenames)
    found = {marker for marker, names in SERVICE_FIXTURES.items() if used & names}
    found |= {marker for (name, value), marker in SERVICE_PARAMS.items() if params.get(name) == value}
    return found


def _names_slow_work(obj: object, depth: int = 3, seen: set[int] | None = None) -> bool:
    """Whether ``obj`` (a function or class of the test suite) names :data:`SLOW_NAMES`, itself, in
    a function nested in it, or through a helper, fixture or class of ``tests/`` that it names
    (followed ``depth`` calls deep)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return False
    seen.add(id(obj))
    if isinstance(obj, type):
        return any(_names_slow_work(v, depth, seen) for v in vars(obj).values() if callable(v))
    fn = getattr(obj, "__wrapped__", obj)
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    codes = [code]
    names: set[str] = set()
    while codes:
        c = codes.pop()
        names.update(c.co_names, c.co_freevars)
        codes.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    if not SLOW_NAMES.isdisjoint(names):
        return True
    if depth == 0:
        return False
    scope = getattr(fn, "__globals__", {})
    helpers = (scope.get(n) for n in names)
    return any(_names_slow_work(h, depth - 1, seen) for h in helpers
               if (callable(h) and str(getattr(h, "__module__", "")).startswith("tests")))


def slow_by_design(test: object, where: str = "", fixtures: Collection[object] = ()) -> bool:
    """Whether a test takes seconds by design: it draws examples with hypothesis, measures CPU
    time (a helper of tests/cpu.py), or starts a child process, itself or through a helper or one
    of its ``fixtures`` (functions) defined in ``tests/``; or it is one of :data:`SLOW_TESTS`
    (``where`` is its ``path::function``)."""
    if where in SLOW_TESTS or getattr(test, "is_hypothesis_test", False):
        return True
    return any(_names_slow_work(f) for f in (test, *fixtures) if f is not None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by the services its fixtures reach, and ``slow`` when it is slow by design,
    so ``-m "not redis and not postgres and not rabbitmq and not slow"`` is the fast loop (README)."""
    slow: dict[tuple[int, str, tuple[int, ...]], bool] = {}  # one answer per function, not per parameter
    for item in items:
        callspec = getattr(item, "callspec", None)
        params: Mapping[str, object] = callspec.params if callspec is not None else {}
        markers = service_markers(getattr(item, "fixturenames", ()), params)
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.values() if info is not None else ()
        fixtures = [d.func for ds in defs for d in ds if str(getattr(d.func, "__module__", "")).startswith("tests")]
        test, where = getattr(item, "function", None), item.nodeid.split("[")[0]
        key = (id(test), where, tuple(map(id, fixtures)))
        if key not in slow:
            slow[key] = slow_by_design(test, where, fixtures)
        if slow[key]:
            markers.add("slow")
        for marker in sorted(markers):
            if item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: the Redis-, PostgreSQL- and RabbitMQ-backed tests must run in CI",
                    pytrace=False)
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


def _rabbitmq_problem(url: str) -> str | None:
    """None when RabbitMQ accepts a connection at ``url``, else why not."""
    import pika
    import pika.exceptions

    params = pika.URLParameters(url)
    # Patient: the answer is kept for the whole session, so a moment of load must not fail every test.
    params.connection_attempts, params.retry_delay, params.socket_timeout = 3, 2, 10
    params.blocked_connection_timeout = 10
    try:
        pika.BlockingConnection(params).close()
        return None
    except (pika.exceptions.AMQPError, OSError) as exc:
        return f"{type(exc).__name__}: {exc or exc.args}"


@pytest.fixture(scope="session")
def rabbitmq_server_url() -> str:
    """URL of a reachable RabbitMQ server (its default virtual host)."""
    url = os.environ.get("SYNDICATE_TEST_RABBITMQ_URL") or "amqp://guest:guest@127.0.0.1:5672/"
    problem = _rabbitmq_problem(url)
    if problem is not None:
        _unavailable(f"RabbitMQ is not reachable at {url} ({problem})")
    return url


def rabbitmqctl(*args: str) -> None:
    """Run ``rabbitmqctl`` on the local node (virtual hosts of the tests)."""
    exe = shutil.which("rabbitmqctl")
    if exe is None:
        raise RuntimeError("rabbitmqctl is not on PATH")
    done = subprocess.run([exe, "-q", *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()[-500:]}")


def rabbitmq_vhost_url(server_url: str, vhost: str) -> str:
    """``server_url`` on the virtual host ``vhost``."""
    from urllib.parse import quote, urlsplit, urlunsplit

    return urlunsplit(urlsplit(server_url)._replace(path="/" + quote(vhost, safe="")))


@pytest.fixture
def rabbitmq_url(rabbitmq_server_url: str) -> Iterator[str]:
    """A RabbitMQ URL on a virtual host of this test alone (made with ``rabbitmqctl``, deleted after)."""
    from urllib.parse import urlsplit

    vhost = f"syndicate-test-{uuid.uuid4().hex[:10]}"
    user = urlsplit(rabbitmq_server_url).username or "guest"
    try:
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"no virtual host for the test: {exc}")
    yield rabbitmq_vhost_url(rabbitmq_server_url, vhost)
    with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):  # the vhost is a leftover, not a failure
        rabbitmqctl("delete_vhost", vhost)


@dataclass(frozen=True)
class BrokerUnderTest:
    """The broker a test runs on (the ``broker`` fixture).

    Attributes:
        kind: ``redis`` or ``rabbitmq``.
        url: the broker's URL.
        namespace: the Redis namespace of the test (its lease keys, with RabbitMQ too).
    """

    kind: str
    url: str
    namespace: str

    @property
    def redis_url(self) -> str:
        """The Redis URL a runtime gets: the broker's with Redis, none (``""``) with RabbitMQ."""
        return self.url if self.kind == "redis" else ""

    @property
    def broker_url(self) -> str | None:
        """The broker URL a runtime gets (None with Redis: ``redis_url`` is the broker)."""
        return self.url if self.kind == "rabbitmq" else None

    def runtime_kwargs(self) -> dict[str, Any]:
        """``Runtime.create`` arguments for this broker."""
        return {"redis_url": self.redis_url, "broker_url": self.broker_url, "namespace": self.namespace}

    def env(self) -> dict[str, str]:
        """The environment of a worker process on this broker (and no Redis with RabbitMQ)."""
        if self.kind == "redis":
            return {"SYNDICATE_REDIS_URL": self.url, "SYNDICATE_REDIS_NAMESPACE": self.namespace}
        return {"SYNDICATE_BROKER_URL": self.url, "SYNDICATE_REDIS_NAMESPACE": self.namespace}


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> BrokerUnderTest:
    """Both brokers: each test using it runs on Redis, and on RabbitMQ without Redis."""
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        return BrokerUnderTest("redis", url, request.getfixturevalue("redis_namespace"))
    url = request.getfixturevalue("rabbitmq_url")
    return BrokerUnderTest("rabbitmq", url, f"syndicate-test-{uuid.uuid4().hex[:10]}")


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
def loopback_fetches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let this test's media URLs lead to loopback fakes (``syndicate.base.addresses``); loopback only.
    Fetched media are cached in this test's own directory (``SYNDICATE_MEDIA_CACHE``)."""
    from syndicate.base.addresses import allow_loopback_fetches

    monkeypatch.setenv("SYNDICATE_MEDIA_CACHE", str(tmp_path / "media-cache"))
    allow_loopback_fetches(True)
    yield
    allow_loopback_fetches(False)
