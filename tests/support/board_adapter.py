"""A small real adapter for the fake board, used by pipeline tests (creates without idempotency
keys, like X or LinkedIn, so only the pipeline's claim stands between a retry and a duplicate)."""

from __future__ import annotations

import requests

from syndicate.channels.contract import Adapter, Limits, PostContent, PublicationRef, Receipt, Rendered, Safety
from syndicate.channels.http import rate_limit_reset
from syndicate.channels.rendering import compose
from syndicate.errors import InDoubt, PermanentError, RateLimited, TransientError


class BoardAdapter(Adapter):
    name = "board"
    publish_safety = Safety.RECONCILE_ONLY

    def __init__(self, account):  # type: ignore[no-untyped-def]
        super().__init__(account)
        self.session = requests.Session()

    @property
    def limits(self) -> Limits:
        return Limits(max_length=500)

    def render(self, content: PostContent) -> Rendered:
        lead = content.channel_text or content.variant or f"{content.title}\n\n{content.summary}"
        text, _ = compose(text=lead, suffix=content.link, budget=500, counter=len)
        return Rendered(text=text, length=len(text), limit=500, link=content.link)

    def _timeout(self) -> tuple[float, float]:
        return (self.account.connect_timeout_s, self.account.read_timeout_s)

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        try:
            r = self.session.post(f"{self.account.base_url}/posts", json={"text": rendered.text,
                                                                          "marker": publication.marker},
                                  timeout=self._timeout())
        except (requests.ConnectionError, requests.Timeout) as exc:
            if isinstance(exc, requests.ConnectTimeout) or (
                    isinstance(exc, requests.ConnectionError) and "refused" in str(exc).lower()):
                raise TransientError("board unreachable") from None
            raise InDoubt(f"board: {type(exc).__name__}") from None
        until = rate_limit_reset(r.headers, ("x-rate-limit",)) if r.status_code == 429 else None
        if until is not None:
            raise RateLimited("board rate limit reached", until=until, status=429)
        if r.status_code >= 500:
            raise InDoubt("board answered a server error on create", status=r.status_code)
        if r.status_code >= 400:
            raise PermanentError("board refused the post", status=r.status_code, platform_message=r.text[:200])
        body = r.json()
        return Receipt(remote_id=body["id"], permalink=body["url"])

    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        try:
            r = self.session.get(f"{self.account.base_url}/posts", params={"marker": publication.marker},
                                 timeout=self._timeout())
            r.raise_for_status()
        except requests.RequestException as exc:
            raise InDoubt(f"cannot search the board: {type(exc).__name__}") from None
        found = r.json()["data"]
        return Receipt(remote_id=found[0]["id"], permalink=found[0]["url"]) if found else None
