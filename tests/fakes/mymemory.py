"""A loopback MyMemory API: ``GET /get?q=..&langpair=SRC|TGT[&de=EMAIL]``.

It answers as MyMemory does (mymemory.translated.net/doc/spec.php): ``{"responseData":
{"translatedText", "match"}, "responseStatus", "matches"}``. Two of its habits matter: a query
over 500 bytes is answered with HTTP 200 and the text "QUERY LENGTH LIMIT EXCEEDED..." as the
translation, and a used-up daily quota with HTTP 200, ``responseStatus: 429`` and a
"MYMEMORY WARNING..." text as the translation.
"""

from __future__ import annotations

from tests.fakes.base import FakeServer, Request, Response
from tests.fakes.machine_translation import fake_translate_all

__all__ = ["FakeMyMemory"]

QUOTA_WARNING = ("MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY. NEXT AVAILABLE IN  "
                 "10 HOURS 31 MINUTES 07 SECONDS VISIT HTTPS://MYMEMORY.TRANSLATED.NET/DOC/USAGELIMITS.PHP "
                 "TO TRANSLATE MORE")


class FakeMyMemory(FakeServer):
    """A fake MyMemory. ``quota_used_up``: answer every query with the quota warning."""

    def __init__(self) -> None:
        super().__init__()
        self.mangle: str | None = None
        self.quota_used_up = False
        self.route("GET", r"/get", self._get)

    @property
    def base_url(self) -> str:
        """The endpoint to configure (``translation.options.base_url``)."""
        return f"{self.url}/get"

    def translate_requests(self) -> list[Request]:
        """The translation requests received so far."""
        return [r for r in self.requests if r.path == "/get"]

    def _answer(self, text: str, status: int = 200) -> Response:
        return Response(200, {"responseData": {"translatedText": text, "match": 1}, "quotaFinished": status == 429,
                              "responseStatus": status, "matches": []})

    def _get(self, req: Request) -> Response:
        q = (req.query.get("q") or [""])[0]
        pair = (req.query.get("langpair") or [""])[0]
        if self.quota_used_up:
            return self._answer(QUOTA_WARNING, 429)
        if "|" not in pair:
            return self._answer("INVALID LANGUAGE PAIR SPECIFIED. EXAMPLE: LANGPAIR=EN|IT USING 2 LETTER ISO "
                                "OR RFC3066 LIKE ZH-CN. ALMOST ALL LANGUAGES SUPPORTED BUT SOME MAY HAVE NO CONTENT",
                                403)
        if len(q.encode("utf-8")) > 500:
            return self._answer("QUERY LENGTH LIMIT EXCEEDED. MAX ALLOWED QUERY : 500 CHARS", 403)
        [out] = fake_translate_all([q], mangle=self.mangle, text_mode=True)
        return self._answer(out)
