"""The HTTP transport under every outbound call through ``requests`` (adapters, engines, webhooks
to producers): bounded sessions, the phase a failed request stopped in, and the one reading of
``Retry-After`` and rate-limit resets for the whole project (:func:`retry_after`,
:func:`retry_delay`, :func:`rate_limit_reset`).

The phase decides what a failed request means (:func:`~.errormap.request_error` applies it): when
:func:`nothing_sent` says no byte of the request left (refused, DNS, connect timeout, proxy), a
retry cannot duplicate anything (``TransientError``); anything later may have created the post
(``InDoubt``). TLS errors count as "may have been sent": requests cannot tell a failed handshake
from a failure mid-answer, and a needless reconciliation costs one lookup where a wrong guess costs
a duplicate post.

Every exchange has a total deadline, not only per-read timeouts: a peer that drips one byte per
read timeout (headers or body) would otherwise hold the worker thread for hours. Sessions built
by :func:`bounded_session` (or with :class:`BoundedTransport` mounted) send each request inside a
:class:`Deadline` of connect + read timeout in total, which shuts the connection's socket down when
it passes, and read the answer's body there and then, at most ``max_answer_bytes`` of it: what
callers find in ``response.content`` is all they get (:func:`answer_complete` says whether it is
the whole body). A deadline that passes before the answer's headers raises
:class:`DeadlineExceeded` (a ``ReadTimeout``: the request may have been received); after them,
the body is cut where it stands.
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar, Token
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NameResolutionError, NewConnectionError
from urllib3.exceptions import ProxyError as Urllib3ProxyError
from urllib3.poolmanager import PoolManager, ProxyManager
from urllib3.response import BaseHTTPResponse

from .sessions import EnvironmentOnceSession

__all__ = [
    "DEFAULT_TIMEOUTS_S",
    "MAX_ANSWER_BYTES",
    "BoundedTransport",
    "Deadline",
    "DeadlineExceeded",
    "WatchedHTTPConnectionPool",
    "WatchedHTTPSConnectionPool",
    "answer_complete",
    "bounded_session",
    "is_loopback",
    "nothing_sent",
    "rate_limit_reset",
    "read_capped",
    "retry_after",
    "retry_delay",
]

#: Largest answer body read from a platform or a receiver unless the caller sets its own cap.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
#: Connect and read timeouts (seconds) when a caller passes none.
DEFAULT_TIMEOUTS_S = (5.0, 20.0)
#: Bytes asked of the socket per read (decoded answers may grow a few times over).
_CHUNK = 16 * 1024
_COMPLETE = "_syndicate_answer_complete"
#: Digits of the longest delay a ``Retry-After`` may ask for (999,999,999 s: 31 years).
_MOST_DIGITS = 9



class DeadlineExceeded(requests.exceptions.ReadTimeout):
    """The exchange's total deadline passed after the request was sent and before the answer's
    headers arrived: the peer may have acted on it."""


_current: ContextVar[Deadline | None] = ContextVar("syndicate_http_deadline", default=None)


class _Watchdog:
    """One daemon thread per process that expires every :class:`Deadline` when its time comes.

    A thread per exchange (``threading.Timer``) cost about 0.19 ms of CPU to start and cancel,
    a few per cent of a publication (docs/performance.md). Here a deadline is an entry in a heap;
    cancelling one marks it, and the heap drops marked entries when they reach the top or
    outnumber the live ones. The thread starts with the first deadline (again after a fork).
    """

    _COMPACT_AT = 256

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[list[Any]] = []  # [end, sequence, Deadline | None]
        self._cancelled = 0
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, end: float, deadline: Deadline) -> list[Any]:
        """Expire ``deadline`` at ``end`` (``time.monotonic()``); returns the entry to cancel."""
        entry = [end, next(self._seq), deadline]
        with self._cond:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="syndicate-http-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0] is entry:
                self._cond.notify()  # earlier than what the thread waits for
        return entry

    def cancel(self, entry: list[Any]) -> None:
        """Never expire ``entry``'s deadline."""
        with self._cond:
            if entry[2] is None:
                return
            entry[2] = None
            self._cancelled += 1
            if self._cancelled > self._COMPACT_AT and self._cancelled * 2 > len(self._heap):
                self._heap = [e for e in self._heap if e[2] is not None]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def pending(self) -> int:
        """Deadlines that may still expire (tests and diagnostics)."""
        with self._cond:
            return sum(1 for e in self._heap if e[2] is not None)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2] is None:
                    heapq.heappop(self._heap)
                    self._cancelled -= 1
                if not self._heap:
                    self._cond.wait()
                    continue
                wait_s = self._heap[0][0] - time.monotonic()
                if wait_s > 0:
                    self._cond.wait(wait_s)
                    continue
                due: Deadline = heapq.heappop(self._heap)[2]
            try:
                due._expire()  # outside the lock: shutting sockets down may take a moment
            except Exception:  # keep watching the others whatever one of them did
                logging.getLogger(__name__).exception("http.deadline_expiry_failed")


_watchdog = _Watchdog()


class Deadline:
    """A total time limit on the HTTP exchanges made inside ``with`` (in this thread).

    Every connection a request is sent on inside the block (see :class:`WatchedHTTPConnectionPool`)
    has its socket shut down when the limit passes, which ends whatever read or write it is
    blocked in; a request not yet sent when it has passed is not sent at all (``ConnectTimeout``).
    One thread per process watches every deadline (no thread is started per exchange).

    Args:
        seconds: the limit, from entering the block.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = 0.0
        self._expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._entry: list[Any] | None = None
        self._token: Token[Deadline | None] | None = None

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self._end - time.monotonic()

    @property
    def expired(self) -> bool:
        """Whether the limit passed and the block's connections were shut down."""
        return self._expired

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the limit passes (at once if it has)."""
        with self._lock:
            if not self._expired:
                self._sockets.append(sock)
                return
        _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shutdown(sock)

    def __enter__(self) -> Deadline:
        self._end = time.monotonic() + self.seconds
        self._entry = _watchdog.add(self._end, self)
        self._token = _current.set(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._entry is not None and self._token is not None
        _watchdog.cancel(self._entry)
        _current.reset(self._token)
        with self._lock:
            self._sockets = []


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _watch_connection(conn: HTTPConnection) -> None:
    deadline = _current.get()
    if deadline is None:
        return
    if deadline.remaining() <= 0:
        raise ConnectTimeoutError(conn, f"the exchange's deadline of {deadline.seconds:g} s passed before sending")
    if conn.sock is None:
        conn.connect()
    assert conn.sock is not None
    deadline.watch(conn.sock)


class _WatchedHTTPConnection(HTTPConnection):
    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        _watch_connection(self)
        super().request(method, url, body=body, headers=headers, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        _watch_connection(self)
        super().request(method, url, body=body, headers=headers, **kwargs)


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    """A urllib3 pool whose connections obey the :class:`Deadline` they are used in."""

    ConnectionCls = _WatchedHTTPConnection


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    """The TLS counterpart of :class:`WatchedHTTPConnectionPool`."""

    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}


def read_capped(raw: BaseHTTPResponse, max_bytes: int) -> tuple[bytes, bool]:
    """Up to ``max_bytes`` of an answer's body (decoded) and whether that is all of it.

    Never raises: a body broken off (reset, read timeout, a :class:`Deadline` passing) is returned
    as far as it came, as incomplete.
    """
    buf = bytearray()
    try:
        while len(buf) <= max_bytes:
            chunk = raw.read1(min(_CHUNK, max_bytes + 1 - len(buf)), decode_content=True)
            if not chunk:
                return bytes(buf), True
            buf += chunk
    except Exception:  # noqa: BLE001 - whatever broke the body, what came is what there is
        return bytes(buf[:max_bytes]), False
    return bytes(buf[:max_bytes]), False


def answer_complete(resp: requests.Response) -> bool:
    """Whether ``resp.content`` is the whole answer (False: cut at the cap or the deadline)."""
    return bool(getattr(resp, _COMPLETE, True))


class BoundedTransport(HTTPAdapter):
    """A requests transport whose every exchange has a total deadline and a cap on the answer.

    Each request is sent inside a :class:`Deadline` of ``total_timeout_s`` (default: the connect
    plus the read timeout the caller passed) and its body read there (``stream=True`` is ignored):
    at most ``max_answer_bytes`` of it, in ``response.content``. No retries.

    Args:
        max_answer_bytes: the most body bytes read from one answer.
        total_timeout_s: the deadline of one exchange, in seconds; None: connect + read timeout.
        timeout_s: (connect, read) timeouts in seconds used when the caller passes none.
    """

    def __init__(self, *, max_answer_bytes: int = MAX_ANSWER_BYTES, total_timeout_s: float | None = None,
                 timeout_s: tuple[float, float] = DEFAULT_TIMEOUTS_S) -> None:
        self.max_answer_bytes = max_answer_bytes
        self.total_timeout_s = total_timeout_s
        self.timeout_s = timeout_s
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """As requests does, with pools whose connections obey a :class:`Deadline`."""
        super().init_poolmanager(*args, **kwargs)
        self._watched(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> ProxyManager:
        """As requests does, with pools whose connections obey a :class:`Deadline`."""
        manager: ProxyManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        self._watched(manager)
        return manager

    @staticmethod
    def _watched(manager: PoolManager) -> None:
        manager.pool_classes_by_scheme = _WATCHED_POOLS

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: bool | str = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        """Send ``request`` and read its answer within the total deadline."""
        connect_s, read_s = _timeouts(timeout, self.timeout_s)
        total = self.total_timeout_s if self.total_timeout_s is not None else connect_s + read_s
        with Deadline(total) as deadline:
            try:
                resp = super().send(request, stream=True, timeout=(connect_s, read_s), verify=verify, cert=cert,
                                    proxies=proxies)
            except requests.exceptions.ConnectionError as exc:
                if deadline.expired and not nothing_sent(exc):
                    raise DeadlineExceeded(f"no answer within the deadline of {total:g} s", request=request) from None
                raise
            if deadline.expired:  # http.client takes a connection shut down mid-headers for their end
                resp.close()
                raise DeadlineExceeded(f"no answer within the deadline of {total:g} s", request=request)
            body, complete = read_capped(resp.raw, self.max_answer_bytes)
        resp._content = body
        resp._content_consumed = True  # type: ignore[attr-defined]
        setattr(resp, _COMPLETE, complete)
        if complete:
            resp.raw.release_conn()
        else:
            resp.raw.close()
        return resp


def _timeouts(timeout: Any, default: tuple[float, float]) -> tuple[float, float]:
    if isinstance(timeout, tuple) and len(timeout) == 2:
        connect, read = timeout
        return (float(connect) if connect is not None else default[0], float(read) if read is not None else default[1])
    if isinstance(timeout, int | float):
        return float(timeout), float(timeout)
    return default


def bounded_session(*, max_answer_bytes: int = MAX_ANSWER_BYTES, total_timeout_s: float | None = None,
                    session: requests.Session | None = None) -> requests.Session:
    """``session`` (default: a new one) with :class:`BoundedTransport` mounted for http and https."""
    s = session if session is not None else EnvironmentOnceSession()
    transport = BoundedTransport(max_answer_bytes=max_answer_bytes, total_timeout_s=total_timeout_s)
    s.mount("https://", transport)
    s.mount("http://", transport)
    return s


def nothing_sent(exc: BaseException) -> bool:
    """Whether a ``requests`` error happened before any byte of the request left the machine."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError):
        return True
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, NewConnectionError | ConnectTimeoutError | NameResolutionError | Urllib3ProxyError
                      | ConnectionRefusedError):
            return True
        if isinstance(cur, MaxRetryError) and cur.reason is not None:
            cur = cur.reason
            continue
        nested = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        cur = nested or cur.__cause__ or cur.__context__
    return False


def retry_after(value: str | None, *, now: datetime | None = None,
                longest: timedelta | None = None) -> datetime | None:
    """When a ``Retry-After`` header value says to come back (aware, UTC), or None if it says nothing usable.

    The one reading of ``Retry-After`` in the project (RFC 9110 section 10.2.3): ASCII digits are
    seconds from ``now``, anything else an HTTP date. A delay of more than nine digits (over 31
    years) is not an answer to wait for: None, or ``now + longest`` when a cap is given.

    Args:
        value: the header's value.
        now: the time the answer arrived (default: now).
        longest: the longest wait accepted; a later time is brought back to ``now + longest``.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    moment = now or datetime.now(UTC)
    when: datetime | None
    if value.isascii() and value.isdigit():
        when = moment + timedelta(seconds=int(value)) if len(value) <= _MOST_DIGITS else None
        if when is None and longest is not None:
            return moment + longest
    else:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, OverflowError):
            return None
        when = parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if when is not None and longest is not None:
        when = min(when, moment + longest)
    return when


def retry_delay(value: str | None, *, now: datetime | None = None,
                longest: timedelta | None = None) -> timedelta | None:
    """How long a ``Retry-After`` value asks us to wait from ``now`` (never negative), or None.

    :func:`retry_after`, as a delay: for callers that wait in place (translation retries,
    notification backoff) rather than reschedule.
    """
    moment = now or datetime.now(UTC)
    when = retry_after(value, now=moment, longest=longest)
    return None if when is None else max(timedelta(0), when - moment)


def rate_limit_reset(headers: Mapping[str, str], windows: Sequence[str]) -> datetime | None:
    """When the rate-limit windows an answer reports (``{window}-remaining``, ``{window}-reset`` in
    Unix seconds, as X sends ``x-rate-limit-*``) let us call again, or None if it reports none.

    The latest reset among the windows used up (``remaining`` 0); when none says it is used up,
    the reset of the first window that has one.

    Args:
        headers: the answer's headers (a case-insensitive mapping, as ``requests`` gives).
        windows: header prefixes of the windows, the main one first (``x-rate-limit``, ...).
    """
    resets: dict[str, int] = {}
    for window in windows:
        reset = str(headers.get(f"{window}-reset") or "").strip()
        if reset.isascii() and reset.isdigit() and len(reset) <= _MOST_DIGITS + 2:
            resets[window] = int(reset)
    spent = [t for w, t in resets.items() if str(headers.get(f"{w}-remaining") or "").strip() == "0"]
    chosen = max(spent) if spent else next(iter(resets.values()), None)
    return None if chosen is None else datetime.fromtimestamp(chosen, UTC)


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (plain http is allowed there, for fakes and tunnels)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
