"""A loopback DeepL API: ``POST /v2/translate`` (JSON, as the official client sends it), ``GET /v2/usage``.

It answers as DeepL does (developers.deepl.com, API reference "translate" and "usage and limits"):
``Authorization: DeepL-Auth-Key KEY`` checked (403 with a ``message`` otherwise), 456 when the
character quota is used up, 429 when throttled (queue a :class:`~tests.fakes.base.Fault`), 400 for
a bad request, and ``{"translations": [{"detected_source_language", "text", "billed_characters"}]}``
with one translation per text, in order. With ``tag_handling: xml`` tags pass through; without it
they are "translated" like text, as a real engine would damage them.
"""

from __future__ import annotations

import threading
from typing import Any

from tests.fakes.base import FakeServer, Fault, Request, Response
from tests.fakes.machine_translation import fake_translate_all

__all__ = ["FakeDeepL"]


class FakeDeepL(FakeServer):
    """A fake DeepL server. ``auth_key`` is the one valid key.

    Attributes:
        mangle: see :mod:`tests.fakes.machine_translation` (without ``tag_handling`` DeepL
            translates inside tags anyway: that is its text mode).
        echo_key: answer every translation with 400 and an error message that repeats the key sent.
        quota_left: characters left this period; below zero → 456.
    """

    def __init__(self, auth_key: str = "fake-deepl-key:fx") -> None:
        super().__init__()
        self.auth_key = auth_key
        self.mangle: str | None = None
        self.echo_key = False
        self.quota_left = 500_000
        self._guard = threading.Lock()
        self.route("POST", r"/v2/translate", self._translate)
        self.route("GET", r"/v2/usage", self._usage)

    def translate_requests(self) -> list[Request]:
        """The translation requests received so far."""
        return [r for r in self.requests if r.path == "/v2/translate"]

    @staticmethod
    def quota_exceeded() -> Fault:
        """DeepL's answer when the billing period's characters are used up."""
        return Fault("status", path=r"/v2/translate", status=456, body={"message": "Quota Exceeded"})

    def _key(self, req: Request) -> str | None:
        auth = req.header("Authorization") or ""
        return auth.removeprefix("DeepL-Auth-Key ").strip() if auth.startswith("DeepL-Auth-Key ") else None

    def _translate(self, req: Request) -> Response:
        key = self._key(req)
        if self.echo_key:
            return Response(400, {"message": f"Bad request: the key {key} is not valid for this endpoint"})
        if key != self.auth_key:
            return Response(403, {"message": "Authorization failure, check auth_key"})
        try:
            body: dict[str, Any] = req.json()
        except ValueError:
            return Response(400, {"message": "Invalid request: expected a JSON body"})
        texts = body.get("text")
        target = body.get("target_lang")
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return Response(400, {"message": "Value for 'text' not supported."})
        if len(texts) > 50:
            return Response(413, {"message": "Too many texts"})
        if not isinstance(target, str) or target.upper() in ("EN", "PT"):
            return Response(400, {"message": "Value for 'target_lang' not supported."})
        chars = sum(len(t) for t in texts)
        with self._guard:
            self.quota_left -= chars
            if self.quota_left < 0:
                return Response(456, {"message": "Quota Exceeded"})
        xml = body.get("tag_handling") == "xml"
        out = fake_translate_all(texts, mangle=self.mangle, keep_markup=xml, text_mode=not xml)
        source = str(body.get("source_lang") or "EN")
        return Response(200, {"translations": [
            {"detected_source_language": source, "text": t, "billed_characters": len(src)}
            for t, src in zip(out, texts, strict=True)]})

    def _usage(self, req: Request) -> Response:
        if self._key(req) != self.auth_key:
            return Response(403, {"message": "Authorization failure, check auth_key"})
        return Response(200, {"character_count": 500_000 - self.quota_left, "character_limit": 500_000})
