"""A ``requests`` session that reads the proxy environment once per host instead of per request.

``requests.Session.merge_environment_settings`` runs on every request of a session that trusts the
environment (the default): it reads ``*_proxy`` and ``no_proxy`` and decides whether the host
bypasses the proxy, about a tenth of a millisecond each time, for an answer that depends only on
the URL's scheme and host and on the environment, which a worker does not change while it runs.
:class:`EnvironmentOnceSession` keeps that answer per (scheme, host, ``no_proxy``), bounded,
and merges it exactly as ``requests`` does (requests 2.x, ``sessions.py``); everything else
(the CA bundle variables, the session's own settings, netrc) is unchanged.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies

__all__ = ["EnvironmentOnceSession"]

#: Hosts whose proxy settings a session keeps (a session talks to a handful).
_MAX_HOSTS = 256


class EnvironmentOnceSession(requests.Session):
    """A session that resolves the environment's proxies once per host; see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self._env_proxies: dict[tuple[str, str, str | None], dict[str, str]] = {}
        self._env_lock = threading.Lock()

    def _proxies_for(self, url: str, no_proxy: str | None) -> dict[str, str]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, no_proxy)
        found = self._env_proxies.get(key)
        if found is None:
            found = get_environ_proxies(url, no_proxy=no_proxy)
            with self._env_lock:
                if len(self._env_proxies) >= _MAX_HOSTS:
                    self._env_proxies.clear()
                self._env_proxies[key] = found
        return found

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
                                   ) -> Any:
        """``requests.Session.merge_environment_settings``, the proxies of the environment read once per host."""
        if not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        no_proxy = proxies.get("no_proxy") if proxies is not None else None
        env_proxies = self._proxies_for(url, no_proxy)
        if proxies is not None:
            for k, v in env_proxies.items():
                proxies.setdefault(k, v)
        if verify is True or verify is None:
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or verify
        return {"proxies": _merge(proxies, self.proxies), "stream": _merge(stream, self.stream),
                "verify": _merge(verify, self.verify), "cert": _merge(cert, self.cert)}


def _merge(request_setting: Any, session_setting: Any) -> Any:
    return merge_setting(request_setting, session_setting)  # type: ignore[no-untyped-call]
