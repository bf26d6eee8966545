"""A loopback LibreTranslate: ``POST /translate``, ``GET /languages``.

It answers as LibreTranslate does (its OpenAPI spec): parameters ``q``, ``source``, ``target``,
``format``, ``api_key`` from the query string, a form or a JSON body; ``{"translatedText": ...}``;
``{"error": ...}`` with 400 (bad request, unsupported language), 403 (invalid API key) or 429
(slow down). ``format=text`` translates the text as it is (tags included, if the engine keeps them).
"""

from __future__ import annotations

from typing import Any

from tests.fakes.base import FakeServer, Fault, Request, Response
from tests.fakes.machine_translation import fake_translate_all

__all__ = ["FakeLibreTranslate"]

LANGUAGES = ("ar", "de", "en", "es", "fr", "ga", "hi", "id", "it", "ja", "ko", "pl", "pt", "ru", "tr", "vi", "zh")


class FakeLibreTranslate(FakeServer):
    """A fake LibreTranslate instance. ``api_key``: the one valid key (None: keys not required).

    Attributes:
        mangle: see :mod:`tests.fakes.machine_translation`.
        echo_key: answer 403 with a message repeating the key sent.
    """

    def __init__(self, api_key: str | None = "fake-libre-key-0123") -> None:
        super().__init__()
        self.api_key = api_key
        self.mangle: str | None = None
        self.echo_key = False
        self.route("POST", r"/translate", self._translate)
        self.route("GET", r"/languages", self._languages)

    def translate_requests(self) -> list[Request]:
        """The translation requests received so far."""
        return [r for r in self.requests if r.path == "/translate"]

    @staticmethod
    def slow_down() -> Fault:
        """The answer when the instance's rate limit is hit."""
        return Fault("status", path=r"/translate", status=429, body={"error": "Slowdown: 20 per 1 minute"})

    def _params(self, req: Request) -> dict[str, Any]:
        params: dict[str, Any] = {k: v[0] for k, v in req.query.items()}
        ctype = req.header("Content-Type") or ""
        if req.body and "json" in ctype:
            params.update(req.json())
        elif req.body:
            params.update({k: v[0] for k, v in req.form().items()})
        return params

    def _translate(self, req: Request) -> Response:
        p = self._params(req)
        if self.echo_key:
            return Response(403, {"error": f"Invalid API key: {p.get('api_key')}"})
        if self.api_key is not None and p.get("api_key") != self.api_key:
            return Response(403, {"error": "Invalid API key"})
        q, source, target = p.get("q"), p.get("source"), p.get("target")
        if not isinstance(q, str) or not q:
            return Response(400, {"error": "Invalid request: missing q parameter"})
        for lang in (source, target):
            if lang != "auto" and lang not in LANGUAGES:
                return Response(400, {"error": f"{lang} is not supported"})
        [out] = fake_translate_all([q], mangle=self.mangle)
        return Response(200, {"translatedText": out})

    def _languages(self, req: Request) -> Response:
        return Response(200, [{"code": c, "name": c, "targets": list(LANGUAGES)} for c in LANGUAGES])
