"""A fake WebSub hub: accepts publish pings (``hub.mode=publish``) and records them.

Like public hubs, it answers ``204 No Content`` to a well-formed ping and ``400`` with a plain-text
reason otherwise (wrong content type, missing or unknown ``hub.mode``, ``hub.url`` that is not an
absolute http(s) URL). Faults (``fail_next``) make it answer 5xx, stall or drop the connection.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from tests.fakes.base import FakeServer, Request, Response

__all__ = ["FakeHub"]


class FakeHub(FakeServer):
    """``POST /hub``; ``pings`` lists the ``hub.url`` values of accepted pings, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.pings: list[str] = []
        self._pings_lock = threading.Lock()
        self.route("POST", "/hub", self._publish)

    @property
    def hub_url(self) -> str:
        """The hub's endpoint."""
        return f"{self.url}/hub"

    def _publish(self, req: Request) -> Response:
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return Response(400, f"expected application/x-www-form-urlencoded, got {ctype or 'nothing'}")
        form = req.form()
        if form.get("hub.mode") != ["publish"]:
            return Response(400, f"unsupported hub.mode {form.get('hub.mode')!r}")
        urls = form.get("hub.url") or []
        if not urls:
            return Response(400, "hub.url is required")
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                return Response(400, f"hub.url {url!r} is not an absolute http(s) URL")
        with self._pings_lock:
            self.pings.extend(urls)
        return Response(204, b"")
