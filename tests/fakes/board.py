"""A minimal fake platform ("board") that counts posts: the oracle for exactly-once tests.

POST /posts {"text", "marker"} → 201 {"id", "url"}; GET /posts?marker=M → {"data": [...]}.
The fake can be slowed down (``delay_s``) to widen race windows. With ``reject_duplicates`` it
refuses, like X, a text it already holds: 403 with a message, nothing created. Links are left out
of the comparison, so a changed query string (another ``utm_content``) does not make a text new.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

from tests.fakes.base import FakeServer, Request, Response


class FakeBoard(FakeServer):
    """Keeps every post; ``posts_by_marker()`` counts duplicates."""

    def __init__(self, delay_s: float = 0.0, *, reject_duplicates: bool = False) -> None:
        super().__init__()
        self.posts: list[dict[str, str]] = []
        self.delay_s = delay_s
        self.reject_duplicates = reject_duplicates
        self.rejected: list[str] = []
        self._posts_lock = threading.Lock()
        self.route("POST", "/posts", self._create)
        self.route("GET", "/posts", self._search)

    def _create(self, req: Request) -> Response:
        data = req.json()
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._posts_lock:
            if self.reject_duplicates and any(_words(p["text"]) == _words(data["text"]) for p in self.posts):
                self.rejected.append(data["text"])
                return Response(403, {"title": "Forbidden", "status": 403,
                                      "detail": "You are not allowed to create a post with duplicate content."})
            pid = str(len(self.posts) + 1)
            post = {"id": pid, "text": data["text"], "marker": data["marker"], "url": f"{self.url}/p/{pid}",
                    "at": repr(time.time())}
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


def _words(text: str) -> str:
    return " ".join(re.sub(r"https?://\S+", "", text).split())
