"""A loopback Google Translate web endpoint, as deep-translator's ``GoogleTranslator`` reads it.

deep-translator does not use the Cloud Translation API: it sends ``GET /m?sl=..&tl=..&q=..`` to
``translate.google.com`` and reads the translation from ``<div class="result-container">`` in the
HTML page (the same page a phone browser gets). The fake answers that page, with the "translation"
HTML-escaped as the real page has it, and 429 when throttled (queue a Fault). No key is involved.
"""

from __future__ import annotations

import html

from tests.fakes.base import FakeServer, Fault, Request, Response
from tests.fakes.machine_translation import fake_translate_all

__all__ = ["FakeGoogleTranslate"]

_PAGE = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Google Translate</title></head><body>"
         "<div class=\"root-container\"><div class=\"result-container\">{}</div></div></body></html>")


class FakeGoogleTranslate(FakeServer):
    """A fake of ``translate.google.com/m``. ``mangle``: see :mod:`tests.fakes.machine_translation`."""

    def __init__(self) -> None:
        super().__init__()
        self.mangle: str | None = None
        self.route("GET", r"/m", self._page)

    @property
    def base_url(self) -> str:
        """The endpoint to configure (``translation.options.base_url``)."""
        return f"{self.url}/m"

    def translate_requests(self) -> list[Request]:
        """The translation requests received so far."""
        return [r for r in self.requests if r.path == "/m"]

    @staticmethod
    def throttled() -> Fault:
        """Google's answer to too many requests."""
        return Fault("status", path=r"/m", status=429, body="<html><body>Our systems have detected unusual "
                     "traffic from your computer network.</body></html>",
                     headers={"Content-Type": "text/html; charset=utf-8"})

    def _page(self, req: Request) -> Response:
        q = (req.query.get("q") or [""])[0]
        if not (req.query.get("tl") or [""])[0]:
            return Response(400, "<html><body>Bad Request</body></html>",
                            {"Content-Type": "text/html; charset=utf-8"})
        [out] = fake_translate_all([q], mangle=self.mangle, text_mode=True)
        return Response(200, _PAGE.format(html.escape(out, quote=False)), {"Content-Type": "text/html; charset=utf-8"})
