"""A loopback LibreTranslate: ``POST /translate``, ``GET /languages``.

It answers as LibreTranslate does (``libretranslate/app.py``, its OpenAPI description and
``translate()``): parameters ``q`` (a text, or a list of texts in a JSON body: the answer's
``translatedText`` is then a list), ``source``, ``target``, ``format`` (``text`` or ``html``),
``api_key`` from the query string, a form or a JSON body; ``{"error": ...}`` with 400 (bad
request, unsupported language or format, a request over ``char_limit`` characters, all texts
together, or over ``batch_limit`` texts), 403 (invalid API key) or 429 (slow down).

``format=html`` behaves as LibreTranslate's HTML mode (argos translate-html): the text is
minified (``' '.join(q.split())``), parsed with Beautiful Soup's ``html.parser``, each text node
translated on its own with the spaces at its ends dropped, serialized again (so ``<x id="0"/>``
comes back as ``<x id="0"></x>``) and unescaped. ``format=text`` translates the text as it is,
tags included, unless ``mangle`` says the instance alters markup in text mode.
"""

from __future__ import annotations

import html
from typing import Any

from bs4 import BeautifulSoup, NavigableString

from tests.fakes.base import FakeServer, Fault, Request, Response
from tests.fakes.machine_translation import fake_translate, fake_translate_all, mangle_all

__all__ = ["FakeLibreTranslate"]

LANGUAGES = ("ar", "de", "en", "es", "fr", "ga", "hi", "id", "it", "ja", "ko", "pl", "pt", "ru", "tr", "vi", "zh")


def html_mode(text: str) -> str:
    """``text`` through LibreTranslate's HTML mode, with the fake's upper-casing as the engine."""
    soup = BeautifulSoup(" ".join(text.split()), "html.parser")
    for node in list(soup.find_all(string=True)):
        node.replace_with(NavigableString(fake_translate(str(node).strip())))
    return html.unescape(str(soup))


class FakeLibreTranslate(FakeServer):
    """A fake LibreTranslate instance. ``api_key``: the one valid key (None: keys not required).

    Attributes:
        mangle: see :mod:`tests.fakes.machine_translation`.
        echo_key: answer 403 with a message repeating the key sent.
        char_limit: the instance's ``--char-limit`` (-1: none).
        batch_limit: the instance's ``--batch-limit`` (-1: none).
    """

    def __init__(self, api_key: str | None = "fake-libre-key-0123") -> None:
        super().__init__()
        self.api_key = api_key
        self.mangle: str | None = None
        self.echo_key = False
        self.char_limit = -1
        self.batch_limit = -1
        self.route("POST", r"/translate", self._translate)
        self.route("GET", r"/languages", self._languages)

    def translate_requests(self) -> list[Request]:
        """The translation requests received so far."""
        return [r for r in self.requests if r.path == "/translate"]

    @staticmethod
    def slow_down(**kw: Any) -> Fault:
        """The answer when the instance's rate limit is hit."""
        return Fault("status", path=r"/translate", status=429, body={"error": "Slowdown: 20 per 1 minute"}, **kw)

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
        batch = isinstance(q, list)
        texts = q if batch else [q]
        if not q or not all(isinstance(t, str) for t in texts):
            return Response(400, {"error": "Invalid request: missing q parameter"})
        if batch and self.batch_limit != -1 and len(texts) > self.batch_limit:
            return Response(400, {"error": f"Invalid request: request ({len(texts)}) exceeds text limit "
                                           f"({self.batch_limit})"})
        chars = sum(len(t) for t in texts)
        if self.char_limit != -1 and chars > self.char_limit:
            return Response(400, {"error": f"Invalid request: request ({chars}) exceeds text limit "
                                           f"({self.char_limit})"})
        for lang in (source, target):
            if lang != "auto" and lang not in LANGUAGES:
                return Response(400, {"error": f"{lang} is not supported"})
        fmt = p.get("format") or "text"
        if fmt not in ("text", "html"):
            return Response(400, {"error": f"{fmt} format is not supported"})
        if fmt == "html":
            out = mangle_all([html_mode(t) for t in texts], self.mangle)
        else:
            out = fake_translate_all(texts, mangle=self.mangle, text_mode=True)
        return Response(200, {"translatedText": out if batch else out[0]})

    def _languages(self, req: Request) -> Response:
        return Response(200, [{"code": c, "name": c, "targets": list(LANGUAGES)} for c in LANGUAGES])
