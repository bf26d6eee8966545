"""The one way the worker fetches a URL that an item names (media): public addresses only.

:func:`fetch` is a guarded ``GET``:

* the host name is resolved here, every address it resolves to must be public
  (:mod:`syndicate.base.addresses`), and the connection goes to a checked address: the name is never
  resolved again between the check and the connection (no DNS rebinding); for https, TLS still
  sends the host name (SNI) and verifies the certificate against it;
* redirects are followed here, at most ``max_redirects`` hops, each checked the same way;
* the whole fetch, all hops included, has a time limit (a :class:`~syndicate.channels.http.Deadline`
  shuts the connection down when it passes), and at most ``max_bytes`` of the answer are read;
* only the content types asked for are accepted; compressed transfer encodings are refused
  (``Accept-Encoding: identity``), so the byte cap is the size in memory;
* environment proxies are not used (a proxy would resolve the name itself, after our check);
* errors are :class:`~syndicate.errors.FetchRefused` (permanent) or
  :class:`~syndicate.errors.FetchUnavailable` (transient), with generic messages: a refused
  address reads the same whether anything listens there or not, and connection failures do not
  say how they failed.

Adapters that upload what an item names (X today; LinkedIn and WordPress images later) call
:func:`fetch` and upload the bytes; they never open such URLs with their own HTTP session.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import certifi
from urllib3 import Timeout
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError, SSLError
from urllib3.response import BaseHTTPResponse

from ..base.addresses import IPAddress, address_allowed, host_literal, normalized_host
from ..errors import FetchRefused, FetchUnavailable
from .http import Deadline, WatchedHTTPConnectionPool, WatchedHTTPSConnectionPool, read_capped

__all__ = ["MAX_REDIRECTS", "Fetched", "Resolver", "fetch", "system_resolver"]

#: Redirect hops followed at most.
MAX_REDIRECTS = 3
#: Seconds to wait for a connection (within the time limit).
CONNECT_TIMEOUT_S = 5.0
USER_AGENT = "syndicate-fetch/1"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NOT_PUBLIC = "the URL does not lead to a public address"

#: Resolves a host name to addresses (strings, in the order to try them).
Resolver = Callable[[str, int], Sequence[str]]

_resolving = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="syndicate-resolve")


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``getaddrinfo`` gives for ``host`` (TCP), in its order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Fetched:
    """What a fetch brought back.

    Attributes:
        data: the body.
        content_type: its media type (lower case, without parameters).
        url: the URL it came from, after redirects.
    """

    data: bytes
    content_type: str
    url: str


def fetch(url: str, *, max_bytes: int, time_limit: timedelta, content_types: Collection[str],
          max_redirects: int = MAX_REDIRECTS, resolver: Resolver | None = None,
          ca_certs: str | None = None) -> Fetched:
    """GET ``url`` from a public address only; see the module docstring.

    Args:
        url: an absolute http(s) URL.
        max_bytes: the largest body accepted.
        time_limit: for the whole fetch, redirects included.
        content_types: media types accepted (``image/png``, ...).
        max_redirects: redirect hops followed at most.
        resolver: resolves host names (default: the system's, with the time limit).
        ca_certs: CA bundle to verify https with (default: certifi's).

    Raises:
        FetchRefused: not a public address, too many redirects, too large, a type or encoding not
            accepted, or a 4xx answer.
        FetchUnavailable: no address, no connection, no complete answer within the time limit, or
            a 5xx (or 408/429) answer.
    """
    end = time.monotonic() + time_limit.total_seconds()
    for _hop in range(max_redirects + 1):
        location = _fetch_once(url, end=end, max_bytes=max_bytes, content_types=content_types,
                               resolver=resolver, ca_certs=ca_certs)
        if isinstance(location, Fetched):
            return location
        url = location
    raise FetchRefused(f"more than {max_redirects} redirects")


def _remaining(end: float) -> float:
    left = end - time.monotonic()
    if left <= 0:
        raise FetchUnavailable("no complete answer within the time limit")
    return left


def _resolve(host: str, port: int, resolver: Resolver | None, end: float) -> list[IPAddress]:
    literal = host_literal(host)
    if literal is not None:
        names = [str(literal)]
    else:
        lookup = resolver or system_resolver
        future = _resolving.submit(lookup, host, port)
        try:
            names = list(future.result(timeout=_remaining(end)))
        except concurrent.futures.TimeoutError:
            raise FetchUnavailable("the host name did not resolve within the time limit") from None
        except OSError:
            raise FetchUnavailable("the host name does not resolve") from None
    addresses = []
    for name in names:
        try:
            addresses.append(ipaddress.ip_address(name))
        except ValueError:
            raise FetchRefused(_NOT_PUBLIC) from None
    if not addresses:
        raise FetchUnavailable("the host name does not resolve")
    if not all(address_allowed(a) for a in addresses):
        raise FetchRefused(_NOT_PUBLIC)
    return addresses


def _fetch_once(url: str, *, end: float, max_bytes: int, content_types: Collection[str],
                resolver: Resolver | None, ca_certs: str | None) -> Fetched | str:
    """One hop: the answer, or the URL a redirect points to."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchRefused("the URL is malformed") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchRefused("only absolute http and https URLs are fetched")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("URLs with credentials are not fetched")
    host = normalized_host(parts.hostname)
    addresses = _resolve(host, port, resolver, end)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    shown_host = f"[{host}]" if ":" in host else host
    headers = {"Host": shown_host if parts.port is None else f"{shown_host}:{port}", "User-Agent": USER_AGENT,
               "Accept": ", ".join(sorted(content_types)) or "*/*", "Accept-Encoding": "identity"}
    last_error = "no connection to the host"
    for address in addresses:
        timeout = Timeout(connect=min(CONNECT_TIMEOUT_S, _remaining(end)), read=_remaining(end))
        pool: HTTPConnectionPool
        if parts.scheme == "https":
            pool = WatchedHTTPSConnectionPool(str(address), port, timeout=timeout, retries=False, maxsize=1,
                                              server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED",
                                              ca_certs=ca_certs or certifi.where())
        else:
            pool = WatchedHTTPConnectionPool(str(address), port, timeout=timeout, retries=False, maxsize=1)
        try:
            with Deadline(_remaining(end)) as deadline:
                try:
                    resp = pool.urlopen("GET", target, headers=headers, redirect=False, retries=False,
                                        preload_content=False, decode_content=False, assert_same_host=False)
                except NewConnectionError:
                    continue  # this address does not answer: try the next one
                except SSLError:
                    raise FetchRefused("the host's TLS certificate could not be verified") from None
                except Urllib3Error:
                    last_error = "no answer from the host"
                    break
                try:
                    return _answer(url, resp, deadline, max_bytes=max_bytes, content_types=content_types)
                finally:
                    resp.release_conn()
        finally:
            pool.close()
    raise FetchUnavailable(last_error)


def _answer(url: str, resp: BaseHTTPResponse, deadline: Deadline, *, max_bytes: int,
            content_types: Collection[str]) -> Fetched | str:
    status = resp.status
    if deadline.expired:
        raise FetchUnavailable("no complete answer within the time limit")
    if status in _REDIRECTS:
        location = resp.headers.get("Location")
        if not location:
            raise FetchRefused(f"the server redirected (HTTP {status}) without a location")
        return urljoin(url, location)
    if status in (408, 429) or status >= 500:
        raise FetchUnavailable(f"the server answered HTTP {status}")
    if status >= 300 or status < 200:
        raise FetchRefused(f"the server answered HTTP {status}")
    content_type = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type not in content_types:
        raise FetchRefused(f"{content_type or 'no content type'} is not one of {', '.join(sorted(content_types))}")
    encoding = (resp.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise FetchRefused(f"the answer is encoded ({encoding}); only identity is accepted")
    declared = resp.headers.get("Content-Length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        raise FetchRefused(f"the answer is larger than {max_bytes:,} bytes")
    data, complete = read_capped(resp, max_bytes)
    if not complete:
        if len(data) >= max_bytes:
            raise FetchRefused(f"the answer is larger than {max_bytes:,} bytes")
        raise FetchUnavailable("no complete answer within the time limit")
    return Fetched(data, content_type, url)
