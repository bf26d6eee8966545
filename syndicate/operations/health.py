"""Health checks, and the small HTTP server that serves them beside ``/metrics``.

* ``/healthz``: liveness. The process is up and its HTTP thread answers: ``200 ok``.
* ``/readyz``: readiness. The broker and the ledger answer, and the config directory is valid:
  ``200`` with each check, else ``503`` with the failing ones. Checks are cached for a couple of
  seconds so an eager probe cannot hammer the ledger.
* ``/metrics``: Prometheus text format (see ``syndicate.operations.metrics``), when a registry is given.

``syndicate health`` runs the same readiness checks from the command line (exit 0 ready, 1 not)
or probes a running process's endpoint with ``--url``.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from ..base.logging import get_logger

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from ..ledger import Ledger
    from ..model.config import Config

__all__ = ["Check", "CheckResult", "OpsServer", "Readiness", "broker_check", "config_check", "ledger_check",
           "probe"]

log = get_logger("syndicate.health")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one readiness check."""

    name: str
    ok: bool
    detail: str = ""


#: A readiness check: returns a short detail on success, raises on failure.
Check = tuple[str, Callable[[], str]]


def broker_check(broker_url: str | None, *, timeout_s: float = 2.0) -> Check:
    """The broker answers: Redis a ``PING``, RabbitMQ an AMQP connection (login and virtual host
    included). Embedded mode has an in-process broker: always ready. A failure names the URL
    without its password."""

    def run() -> str:
        if not broker_url:
            return "embedded (in-process broker)"
        from ..base.brokerurl import AMQP_SCHEMES, display_url

        if broker_url.split(":", 1)[0].lower() in AMQP_SCHEMES:
            import pika
            import pika.exceptions

            params = pika.URLParameters(broker_url)
            params.socket_timeout = params.stack_timeout = params.blocked_connection_timeout = timeout_s
            params.connection_attempts = 1
            try:
                pika.BlockingConnection(params).close()
            except (pika.exceptions.AMQPError, OSError) as exc:
                raise ConnectionError(f"RabbitMQ at {display_url(broker_url)}: {type(exc).__name__}: {exc}") from None
            return f"rabbitmq accepts a connection at {display_url(broker_url)}"
        import redis

        client = redis.Redis.from_url(broker_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        try:
            client.ping()
        finally:
            client.close()
        return "redis answers PING"

    return "broker", run


def ledger_check(ledger: Ledger) -> Check:
    """The ledger answers a query and has our schema."""

    def run() -> str:
        ledger.ping()
        return f"{ledger.dialect} answers"

    return "ledger", run


def config_check(load: Callable[[], Config]) -> Check:
    """The config loads without a problem: ``load`` reads and checks it as ``syndicate validate``
    does (``functools.partial(load_config, directory, check_secrets=...)``)."""

    def run() -> str:
        cfg = load()
        return f"{len(cfg.routes)} routes, {len(cfg.accounts)} accounts"

    return "config", run


class Readiness:
    """Run readiness checks, caching the answer for ``cache_s`` seconds."""

    def __init__(self, checks: Sequence[Check], *, cache_s: float = 2.0) -> None:
        self.checks = list(checks)
        self.cache_s = cache_s
        self._lock = threading.Lock()
        self._cached: tuple[float, list[CheckResult]] | None = None

    def run(self) -> list[CheckResult]:
        """Every check's result (from the cache when fresh)."""
        with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < self.cache_s:
                return self._cached[1]
            results = []
            for name, fn in self.checks:
                try:
                    results.append(CheckResult(name, True, fn()))
                except Exception as exc:  # noqa: BLE001 - a failing check is an answer, not a crash
                    from ..base.secrets import redact

                    detail = redact(f"{type(exc).__name__}: {exc}".splitlines()[0][:500])
                    results.append(CheckResult(name, False, detail))
            self._cached = (time.monotonic(), results)
            return results

    def ready(self) -> bool:
        """Whether every check passes."""
        return all(r.ok for r in self.run())


def _report(results: Sequence[CheckResult]) -> dict[str, Any]:
    return {"status": "ready" if all(r.ok for r in results) else "not ready",
            "checks": {r.name: {"ok": r.ok, "detail": r.detail} for r in results}}


#: Seconds an ops-server connection may wait for its next byte before it is closed.
OPS_IDLE_TIMEOUT_S = 10.0


class OpsServer:
    """``/healthz``, ``/readyz`` and ``/metrics`` on one port, served from a daemon thread.

    Every connection's socket has a timeout of ``idle_timeout_s``: a client that sends nothing (or
    keeps an idle connection open) loses it then, so no thread waits on it forever.

    Args:
        host: address to listen on (``127.0.0.1`` by default; ``0.0.0.0`` in a container, so the
            orchestrator and Prometheus can reach it).
        port: port to listen on; 0 picks a free one (see :attr:`port`).
        readiness: the readiness checks.
        registry: the Prometheus registry for ``/metrics`` (none: 404).
        idle_timeout_s: seconds a connection may wait for its next byte.
    """

    def __init__(self, host: str, port: int, readiness: Readiness, registry: CollectorRegistry | None = None,
                 *, idle_timeout_s: float = OPS_IDLE_TIMEOUT_S) -> None:
        self.readiness = readiness
        self.registry = registry
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = idle_timeout_s

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                server._serve(self)

            def do_HEAD(self) -> None:
                server._serve(self)

        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on."""
        return int(self._httpd.server_address[1])

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        content_type = "application/json"
        if path == "/healthz":
            status, body = 200, json.dumps({"status": "alive"}).encode()
        elif path == "/readyz":
            results = self.readiness.run()
            status = 200 if all(r.ok for r in results) else 503
            body = json.dumps(_report(results)).encode()
        elif path == "/metrics" and self.registry is not None:
            from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

            status, body, content_type = 200, generate_latest(self.registry), CONTENT_TYPE_LATEST
        else:
            status, body = 404, json.dumps({"error": "not found"}).encode()
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Cache-Control", "no-store")
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def start(self) -> OpsServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="ops-http", daemon=True)
        self._thread.start()
        log.info("ops.listening", port=self.port, metrics=self.registry is not None)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()


def probe(url: str, *, timeout_s: float = 5.0) -> tuple[bool, str]:
    """GET ``url`` (a ``/readyz`` or ``/healthz`` endpoint): ``(ok, body)``; ok means HTTP 200."""
    if not url.startswith(("http://", "https://")):
        return False, f"not an http(s) URL: {url}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 - scheme checked above
            return resp.status == 200, resp.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return False, exc.read(65536).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


def report_json(results: Sequence[CheckResult]) -> str:
    """The readiness results as the JSON ``/readyz`` answers with."""
    return json.dumps(_report(results), indent=2)


def build_ops_server(host: str, port: int, *, ledger: Ledger, redis_url: str | None, namespace: str,
                     load_config: Callable[[], Config], queues: Sequence[str], broker: Any = None,
                     multiprocess_dir: str | None = None, broker_url: str | None = None) -> OpsServer:
    """An :class:`OpsServer` with readiness checks and metrics for a worker (or its supervisor).

    Args:
        host: address to listen on.
        port: port to listen on (0: any free port).
        ledger: the ledger to check and to read gauges from.
        redis_url: the Redis broker (None: embedded, unless ``broker_url`` names one; ``broker`` then
            gives queue depths).
        namespace: the Redis namespace of the queues.
        load_config: reads and checks the config, on ``/readyz`` (as :func:`config_check` takes).
        queues: queue names whose depth to report.
        broker: an in-process broker (embedded mode).
        multiprocess_dir: serve the merged metrics of the processes writing there.
        broker_url: the broker, Redis or RabbitMQ (takes the place of ``redis_url``).
    """
    from ..base.brokerurl import AMQP_SCHEMES
    from .metrics import BrokerCollector, LedgerCollector, serving_registry

    url = broker_url or redis_url
    client = amqp = None
    if url and url.split(":", 1)[0].lower() in AMQP_SCHEMES:
        amqp = url
    elif url:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
    collectors: list[Any] = [LedgerCollector(ledger),
                             BrokerCollector(queues, redis_client=client, namespace=namespace, broker=broker,
                                             amqp_url=amqp)]
    registry = serving_registry(*collectors, multiprocess_dir=multiprocess_dir)
    readiness = Readiness([broker_check(url), ledger_check(ledger),
                           config_check(load_config)])
    return OpsServer(host, port, readiness, registry)
