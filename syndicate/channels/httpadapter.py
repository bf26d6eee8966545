"""A small base for adapters that talk HTTP through ``requests``: everything but the platform.

:class:`HttpAdapter` holds one session per adapter instance (one per account and worker thread),
built by :func:`~.http.bounded_session`: every exchange runs within a total deadline of the
account's connect and read timeouts, and its answer is read at once, at most
:attr:`HttpAdapter.max_answer_bytes` of it. :meth:`HttpAdapter.request` sends with those timeouts,
never follows a redirect, and turns a failed exchange into our error by its phase;
:meth:`HttpAdapter.status_error` turns an answer that is not the one asked for into our error
through the adapter's :class:`~.errormap.StatusMap`; :meth:`HttpAdapter.json` reads an answer that
must be whole JSON. The session is closed when the worker stops.

A subclass declares its platform's differences as data (``statuses``, ``default_base_url``) and
writes only what is its own: ``render``, the requests of ``publish`` and ``find_existing``, and
where needed the hooks :meth:`~HttpAdapter.make_session` (authentication on the session),
:meth:`~HttpAdapter.platform_message` (the platform's error format) and
:meth:`~HttpAdapter.wait_until` (when a 429 that says nothing ends).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, ClassVar

import requests

from ..base.secrets import redact
from ..errors import ChannelError, ConfigError, ConfigProblem, InDoubt, TransientError
from .contract import AccountContext, Adapter, OptionsT
from .errormap import StatusMap, request_error
from .http import MAX_ANSWER_BYTES, answer_complete, bounded_session

__all__ = ["HttpAdapter", "answer_text"]

#: Bytes of an error answer read for its message (it is cut much shorter afterwards).
_MESSAGE_BYTES = 4096


def answer_text(resp: requests.Response, *, limit: int = 500) -> str | None:
    """The start of an answer's body as text for a message: decoded leniently, secrets redacted
    (before cutting, so no secret is cut in two), whitespace collapsed, at most ``limit`` characters;
    None when it is empty."""
    text = redact(resp.content[:_MESSAGE_BYTES].decode("utf-8", "replace"))
    return " ".join(text.split())[:limit] or None


class HttpAdapter(Adapter[OptionsT]):
    """Base class of adapters whose platform speaks HTTP; see the module docstring."""

    #: How the platform's statuses map to our errors, and its name in messages (None: the shared
    #: table, the platform named by :attr:`name`).
    statuses: ClassVar[StatusMap | None] = None
    #: The platform's base URL when the account sets no ``base_url`` (None: the account must).
    default_base_url: ClassVar[str | None] = None
    #: The most bytes read of one answer.
    max_answer_bytes: ClassVar[int] = MAX_ANSWER_BYTES

    def __init__(self, account: AccountContext) -> None:
        super().__init__(account)
        self._session: requests.Session | None = None

    # -- what subclasses may override ------------------------------------------------------------

    def make_session(self) -> requests.Session:
        """A new session for this adapter: bounded (:func:`~.http.bounded_session`). Override to
        authenticate it or mount more transports; keep it bounded."""
        return bounded_session(max_answer_bytes=self.max_answer_bytes)

    def platform_message(self, resp: requests.Response) -> str | None:
        """The platform's own words in an error answer, redacted and cut short (default: the
        body's start, :func:`answer_text`)."""
        return answer_text(resp)

    def wait_until(self) -> datetime | None:
        """When to come back after a 429 that does not say (None: the status map's ``default_wait``)."""
        return None

    # -- what subclasses use ---------------------------------------------------------------------

    @property
    def status_map(self) -> StatusMap:
        """This platform's :class:`~.errormap.StatusMap`."""
        return self.statuses or StatusMap(platform=self.name)

    @property
    def platform(self) -> str:
        """The platform's name in messages."""
        return self.status_map.platform

    @property
    def session(self) -> requests.Session:
        """This instance's session, made by :meth:`make_session` on first use."""
        if self._session is None:
            self._session = self.make_session()
        return self._session

    @property
    def timeouts(self) -> tuple[float, float]:
        """The account's (connect, read) timeouts, in seconds."""
        return (self.account.connect_timeout_s, self.account.read_timeout_s)

    @property
    def base_url(self) -> str:
        """The account's ``base_url`` (else :attr:`default_base_url`), without a trailing slash.

        Raises:
            ConfigError: neither is set.
        """
        base = self.account.base_url or self.default_base_url
        if not base:
            raise ConfigError([ConfigProblem("accounts.yaml", None, f"accounts.{self.account.id}.base_url",
                                             f"a {self.name} account needs base_url")])
        return base.rstrip("/")

    def url_for(self, path: str) -> str:
        """``path`` (``/notes``) on :attr:`base_url`."""
        return self.base_url + path

    def request(self, method: str, url: str, *, creates: bool, what: str, expect: Collection[int] = (),
                **kwargs: Any) -> requests.Response:
        """Send one request with the account's timeouts, never following a redirect.

        Args:
            method: the HTTP method.
            url: the whole URL (see :meth:`url_for`).
            creates: whether the request creates something, so that a failure after sending may
                have made it (``InDoubt``) rather than nothing (``TransientError``).
            what: what is asked, for messages (``the post``, ``looking up the post``).
            expect: statuses that answer the request; any other raises :meth:`status_error`
                (empty: the caller looks at every answer itself).
            kwargs: passed to ``requests`` (``json=``, ``data=``, ``headers=``, ``params=``, ``auth=``).

        Raises:
            TransientError: nothing was sent, or a read was sent and not answered.
            InDoubt: a create was sent and not answered.
            ChannelError: with ``expect``, the error its answer maps to.
        """
        try:
            resp = self.session.request(method, url, timeout=self.timeouts, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise request_error(exc, platform=self.platform, what=what, creates=creates) from None
        if expect and resp.status_code not in expect:
            raise self.status_error(resp, creates=creates, what=what)
        return resp

    def status_error(self, resp: requests.Response, *, creates: bool, what: str, **fields: Any) -> ChannelError:
        """The error an answer that is not the one asked for maps to. Message templates may use
        ``{options.<field>}`` (this account's options) and any of ``fields``."""
        return self.status_map.error(resp.status_code, resp.headers, creates=creates, what=what,
                                     account=self.account.id, platform_message=self.platform_message(resp),
                                     wait_until=self.wait_until(), options=self.options, **fields)

    def json(self, resp: requests.Response, *, creates: bool, what: str) -> Any:
        """The answer's body as JSON.

        Raises:
            InDoubt: for a create, the body was cut short (the cap or the deadline) or is not
                JSON: the platform acted, we cannot read how.
            TransientError: the same for any other request.
        """
        if not answer_complete(resp):
            problem = "a body cut short (at the cap on what is read, or past the deadline)"
        else:
            try:
                return resp.json()
            except ValueError:
                problem = "a body that is not JSON"
        message = f"{self.platform} answered {resp.status_code} to {what} with {problem}"
        raise (InDoubt if creates else TransientError)(message, status=resp.status_code)

    def close(self) -> None:
        """Close the session."""
        if self._session is not None:
            self._session.close()
            self._session = None
