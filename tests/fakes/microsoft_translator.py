"""A loopback Microsoft Translator v3: ``POST /translate?api-version=3.0&from=..&to=..``, ``GET /languages``.

It answers as Microsoft documents (learn.microsoft.com, Translator v3 reference): the key in
``Ocp-Apim-Subscription-Key`` (401 with error code 401000 otherwise), a JSON array of
``{"Text": ...}``/``{"text": ...}`` objects in, ``[{"translations": [{"text", "to"}]}]`` out, and
errors as ``{"error": {"code": NNNNNN, "message": ...}}`` with the code's first three digits as the
HTTP status (403001: free quota used up; 429001: too many requests). ``textType=html`` keeps tags.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.base import FakeServer, Fault, Request, Response
from tests.fakes.machine_translation import fake_translate_all

__all__ = ["FakeMicrosoftTranslator"]


def _error(code: int, message: str) -> Response:
    return Response(code // 1000, {"error": {"code": code, "message": message}})


class FakeMicrosoftTranslator(FakeServer):
    """A fake Translator resource. ``api_key`` is the one valid key.

    Attributes:
        mangle: see :mod:`tests.fakes.machine_translation`.
        echo_key: answer with 401 and a message repeating the key sent; a function instead of
            True repeats it as that function encodes it (``urllib.parse.quote_plus``: a gateway
            that echoes the request it refused, percent-encoded).
    """

    def __init__(self, api_key: str = "fake-ms-key-0123456789") -> None:
        super().__init__()
        self.api_key = api_key
        self.mangle: str | None = None
        self.echo_key: bool | Callable[[str], str] = False
        self.route("POST", r"/translate", self._translate)
        self.route("GET", r"/languages", self._languages)

    def translate_requests(self) -> list[Request]:
        """The translation requests received so far."""
        return [r for r in self.requests if r.path == "/translate"]

    @staticmethod
    def quota_exceeded() -> Fault:
        """The answer when a free tier's monthly characters are used up."""
        return Fault("status", path=r"/translate", status=403,
                     body={"error": {"code": 403001, "message": "The operation is not allowed because the "
                                     "subscription has exceeded its free quota."}})

    def _translate(self, req: Request) -> Response:
        key = req.header("Ocp-Apim-Subscription-Key")
        if self.echo_key:
            shown = self.echo_key(key or "") if callable(self.echo_key) else key
            return _error(401000, f"Access denied due to invalid subscription key {shown}. Make sure to provide "
                          "a valid key for an active subscription.")
        if key != self.api_key:
            return _error(401000, "The request is not authorized because credentials are missing or invalid.")
        if (req.query.get("api-version") or [""])[0] != "3.0":
            return _error(400021, "The API version parameter is missing or invalid.")
        to = (req.query.get("to") or [""])[0]
        if not to:
            return _error(400036, "The target language is not valid.")
        try:
            body: Any = req.json()
        except ValueError:
            return _error(400074, "The body of the request is not valid JSON.")
        if not isinstance(body, list) or not body or len(body) > 1000:
            return _error(400077, "The maximum request size has been exceeded.")
        texts = [str(e.get("Text", e.get("text", ""))) for e in body if isinstance(e, dict)]
        if sum(len(t) for t in texts) > 50_000:
            return _error(400077, "The maximum request size has been exceeded.")
        keep = (req.query.get("textType") or ["plain"])[0] == "html"
        out = fake_translate_all(texts, mangle=self.mangle, keep_markup=keep, text_mode=not keep)
        return Response(200, [{"translations": [{"text": t, "to": to}]} for t in out])

    def _languages(self, req: Request) -> Response:
        names = {"de": "German", "fr": "French", "ja": "Japanese", "es": "Spanish", "zh-Hant": "Chinese Traditional"}
        return Response(200, {"translation": {c: {"name": n, "nativeName": n, "dir": "ltr"} for c, n in names.items()}})
