"""A minimal fake platform ("board") that counts posts: the oracle for exactly-once tests.

POST /posts {"text", "marker"} → 201 {"id", "url"}; GET /posts?marker=M → {"data": [...]}.
The fake can be slowed down (``delay_s``) to widen race windows.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from tests.fakes.base import FakeServer, Request, Response


class FakeBoard(FakeServer):
    """Keeps every post; ``posts_by_marker()`` counts duplicates."""

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__()
        self.posts: list[dict[str, str]] = []
        self.delay_s = delay_s
        self._posts_lock = threading.Lock()
        self.route("POST", "/posts", self._create)
        self.route("GET", "/posts", self._search)

    def _create(self, req: Request) -> Response:
        data = req.json()
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._posts_lock:
            pid = str(len(self.posts) + 1)
            post = {"id": pid, "text": data["text"], "marker": data["marker"], "url": f"{self.url}/p/{pid}"}
            self.posts.append(post)
        return Response(201, {"id": pid, "url": post["url"]})

    def _search(self, req: Request) -> Response:
        marker = req.query.get("marker", [""])[0]
        with self._posts_lock:
            found = [p for p in self.posts if p["marker"] == marker]
        return Response(200, {"data": found})

    def posts_by_marker(self) -> Counter[str]:
        with self._posts_lock:
            return Counter(p["marker"] for p in self.posts)
