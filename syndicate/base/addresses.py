"""Which network addresses an item may make the worker reach: public ones only.

An item is untrusted (``docs/security.md``). Whatever it names that the worker fetches (media
URLs) must lead to a public address: never loopback, private (RFC 1918), shared (CGNAT,
100.64.0.0/10), link-local (169.254.0.0/16, fe80::/10, cloud metadata services live there),
unique local (fc00::/7), site-local, multicast, unspecified or reserved space, nor any of them
written another way: IPv4-mapped IPv6 (``::ffff:127.0.0.1``), NAT64 (``64:ff9b::/96``) and 6to4
(``2002::/16``) forms are judged by the IPv4 address they carry, and IPv4 written in decimal, octal,
hexadecimal or short form (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``), or in full-width
digits, is read as the address it is.

Two checks use these rules: :func:`check_media_url` at intake (a literal address or a
``localhost`` name in ``media[].url`` is refused with a clear error; no DNS there), and
:mod:`syndicate.channels.fetching` on every fetch, after resolving the name, on every redirect hop.

Test fakes listen on loopback. :func:`allow_loopback_fetches` (a process-level switch that only
test harnesses call) or the environment variable :data:`LOOPBACK_ENV` set to ``1`` (for worker
processes a test starts) open loopback (127.0.0.0/8, ::1, ``localhost``) and nothing else; no
configuration file can. A process where it is on says so in a warning the first time it matters.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from urllib.parse import urlsplit

import idna

from .logging import get_logger

__all__ = [
    "LOOPBACK_ENV",
    "IPAddress",
    "address_allowed",
    "allow_loopback_fetches",
    "check_media_url",
    "describe",
    "host_literal",
    "is_public_address",
    "loopback_allowed",
    "normalized_host",
]

log = get_logger("syndicate.addresses")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Set to ``1`` in the environment of a process a test starts, to let it fetch from loopback fakes.
LOOPBACK_ENV = "SYNDICATE_UNSAFE_ALLOW_LOOPBACK_FETCHES_FOR_TESTS"

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_ULA = ipaddress.ip_network("fc00::/7")

_switch = False
_warned = False
_lock = threading.Lock()


def allow_loopback_fetches(allowed: bool = True) -> None:
    """Let this process fetch from loopback (test harnesses only; never private or link-local)."""
    global _switch
    _switch = allowed


def loopback_allowed() -> bool:
    """Whether loopback is open to fetches in this process (see the module docstring)."""
    global _warned
    on = _switch or os.environ.get(LOOPBACK_ENV) == "1"
    if on and not _warned:
        with _lock:
            if not _warned:
                _warned = True
                log.warning("fetching.loopback_allowed", env=LOOPBACK_ENV,
                            reason="media URLs may lead to this machine: for tests only, never in production")
    return on


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def is_public_address(ip: IPAddress) -> bool:
    """Whether ``ip`` is a public unicast address (see the module docstring for what is not)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id or ip in _NAT64_LOCAL or ip.teredo is not None or ip.is_site_local:
            return False
        v4 = _embedded_v4(ip)
        if v4 is not None:
            return is_public_address(v4)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback
                                 or ip.is_link_local or ip.is_private or ip in _CGNAT)


def address_allowed(ip: IPAddress) -> bool:
    """Whether a fetch may connect to ``ip``: public, or loopback when a test opened it."""
    if is_public_address(ip):
        return True
    plain_loopback = ip.is_loopback and not (isinstance(ip, ipaddress.IPv6Address) and ip.scope_id)
    return plain_loopback and loopback_allowed()


def describe(ip: IPAddress) -> str:
    """What kind of address ``ip`` is, in a few words (for intake errors)."""
    if isinstance(ip, ipaddress.IPv6Address):
        v4 = _embedded_v4(ip)
        if v4 is not None and not is_public_address(v4):
            return f"an IPv6 form of {v4}, {describe(v4)}"
        if ip.is_site_local:
            return "a site-local address"
        if ip.teredo is not None or ip in _NAT64_LOCAL:
            return "a tunnel address"
    kinds = [("is_loopback", "a loopback address"), ("is_unspecified", "the unspecified address"),
             ("is_link_local", "a link-local address"), ("is_multicast", "a multicast address")]
    for attr, words in kinds:
        if getattr(ip, attr):
            return words
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a shared (CGNAT) address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _ULA:
        return "a unique local address"
    if ip.is_private:
        return "a private address"
    return "not a public address"


def normalized_host(host: str) -> str:
    """``host`` as DNS and Host headers see it: IDNA (UTS 46) ASCII, lower case, no trailing dot."""
    h = host.strip("[]").rstrip(".").lower()
    try:
        return idna.encode(h, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return h


def host_literal(host: str) -> IPAddress | None:
    """The address ``host`` writes literally, in any spelling a resolver accepts, or None for a name."""
    h = normalized_host(host)
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    if all(c in "0123456789abcdefx." for c in h) and h[:1].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(h))  # decimal, octal, hex and short forms
        except OSError:
            return None
    return None


def _is_localhost(host: str) -> bool:
    h = normalized_host(host)
    return h == "localhost" or h.endswith(".localhost")


def check_media_url(url: str) -> str:
    """``url`` unchanged, or ``ValueError`` when its host is a literal address that is not public
    (in any spelling) or a ``localhost`` name. Names are checked again, resolved, on every fetch."""
    host = urlsplit(url).hostname or ""
    if _is_localhost(host):
        if loopback_allowed():
            return url
        raise ValueError(f"media URL must name a public host, not {host!r} (this machine)")
    ip = host_literal(host)
    if ip is not None and not address_allowed(ip):
        raise ValueError(f"media URL must name a public host, not {host!r} ({describe(ip)})")
    return url

