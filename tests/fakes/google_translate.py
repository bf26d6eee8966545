"""A loopback Google Translate: the web endpoint, as deep-translator's ``GoogleTranslator`` reads
it, and the Cloud Translation API v2.

deep-translator does not use the Cloud Translation API: it sends ``GET /m?sl=..&tl=..&q=..`` to
``translate.google.com`` and reads the translation from ``<div class="result-container">`` in the
HTML page (the same page a phone browser gets). The fake answers that page, with the "translation"
HTML-escaped as the real page has it, and 429 when throttled (queue a Fault). No key is involved.

The Cloud API (cloud.google.com/translate/docs/reference/rest/v2/translate): ``POST
/language/translate/v2`` with ``q`` (a text or a list of at most 128), ``target``, ``source``,
``format`` (``html`` by default: tags kept, the answer HTML-escaped; ``text``: tags translated as
text), the key in ``X-Goog-Api-Key`` (or ``key``); ``{"data": {"translations":
[{"translatedText"}]}}``; errors as ``{"error": {"code", "message", "errors": [{"reason"}]}}``.
"""

from __future__ import annotations

import html
from typing import Any

from tests.fakes.base import FakeServer, Fault, Request, Response
from tests.fakes.machine_translation import fake_translate_all

__all__ = ["FakeGoogleTranslate"]

_PAGE = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Google Translate</title></head><body>"
         "<div class=\"root-container\"><div class=\"result-container\">{}</div></div></body></html>")


CLOUD_PATH = "/language/translate/v2"


def _cloud_error(code: int, message: str, reason: str) -> Response:
    return Response(code, {"error": {"code": code, "message": message,
                                      "errors": [{"message": message, "domain": "global", "reason": reason}]}})


class FakeGoogleTranslate(FakeServer):
    """A fake of ``translate.google.com/m`` and of the Cloud Translation API v2.

    Attributes:
        mangle: see :mod:`tests.fakes.machine_translation`.
        api_key: the one valid Cloud API key.
    """

    def __init__(self, api_key: str = "fake-google-cloud-key-0123") -> None:
        super().__init__()
        self.mangle: str | None = None
        self.api_key = api_key
        self.route("GET", r"/m", self._page)
        self.route("POST", CLOUD_PATH, self._cloud)

    @property
    def base_url(self) -> str:
        """The endpoint to configure (``translation.options.base_url``)."""
        return f"{self.url}/m"

    @property
    def cloud_url(self) -> str:
        """The Cloud API endpoint to configure (``cloud_url``)."""
        return f"{self.url}{CLOUD_PATH}"

    def translate_requests(self) -> list[Request]:
        """The translation requests received so far (either API)."""
        return [r for r in self.requests if r.path in ("/m", CLOUD_PATH)]

    @staticmethod
    def daily_limit_exceeded() -> Fault:
        """The Cloud API's answer when the project's daily quota is used up."""
        return Fault("status", path=CLOUD_PATH, status=403, body={"error": {
            "code": 403, "message": "Daily Limit Exceeded",
            "errors": [{"message": "Daily Limit Exceeded", "domain": "usageLimits", "reason": "dailyLimitExceeded"}]}})

    def _cloud(self, req: Request) -> Response:
        key = req.header("X-Goog-Api-Key") or (req.query.get("key") or [None])[0]
        if key != self.api_key:
            return _cloud_error(400, "API key not valid. Please pass a valid API key.", "badRequest")
        try:
            body: dict[str, Any] = req.json()
        except ValueError:
            return _cloud_error(400, "Invalid JSON payload received.", "parseError")
        q = body.get("q")
        texts = q if isinstance(q, list) else [q]
        if not q or not all(isinstance(t, str) for t in texts):
            return _cloud_error(400, "Required Text", "required")
        if len(texts) > 128:
            return _cloud_error(400, "Too many text segments", "invalid")
        if not body.get("target"):
            return _cloud_error(400, "Required Target language", "required")
        as_html = body.get("format", "html") == "html"
        out = fake_translate_all(texts, mangle=self.mangle, keep_markup=as_html, text_mode=not as_html)
        if as_html:
            out = [t.replace("'", "&#39;") for t in out]  # Google escapes its HTML answers
        return Response(200, {"data": {"translations": [{"translatedText": t} for t in out]}})

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
