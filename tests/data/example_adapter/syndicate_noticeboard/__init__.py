"""An example syndicate adapter for "Noticeboard", a small notes service.

The service's API, as this adapter uses it:

* ``POST {base_url}/notes`` with ``Authorization: Bearer <token>`` and ``{"text", "ref"}`` answers
  ``201 {"id", "url"}``; ``401`` for a bad token, ``422 {"error"}`` for a refused note, ``429``
  with ``Retry-After`` when posting too fast.
* ``GET {base_url}/notes?ref=<ref>`` answers ``200 {"notes": [{"id", "url"}, ...]}``.

It has no idempotency key, so a repeated ``publish`` could post twice (``reconcile_only``): each
note carries the publication's marker as ``ref``, and ``find_existing`` looks for it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from pydantic import BaseModel, ConfigDict, Field

from syndicate import (
    Adapter,
    AuthError,
    ConfigError,
    ConfigProblem,
    InDoubt,
    Limits,
    PermanentError,
    PostContent,
    PublicationRef,
    RateLimited,
    Receipt,
    Rendered,
    Safety,
    TransientError,
)
from syndicate.base.secrets import redact
from syndicate.channels.rendering import compose, hashtags

__all__ = ["NoticeboardAdapter", "NoticeboardOptions"]


class NoticeboardOptions(BaseModel):
    """What an account may set under ``options:`` in accounts.yaml."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    max_length: int = Field(default=500, ge=50, le=5000)


class NoticeboardAdapter(Adapter):
    """Posts one note per publication."""

    name = "noticeboard"
    Options = NoticeboardOptions
    required_credentials = ("token",)
    publish_safety = Safety.RECONCILE_ONLY

    def __init__(self, account: Any) -> None:
        super().__init__(account)
        self._session = requests.Session()

    @property
    def limits(self) -> Limits:
        """Code points, up to the account's ``max_length``."""
        opts = self.account.options
        assert isinstance(opts, NoticeboardOptions)
        return Limits(max_length=opts.max_length, max_media=0)

    def render(self, content: PostContent) -> Rendered:
        """Title and summary, then the call to action and the link (always kept), then hashtags."""
        lim = self.limits
        lead = content.channel_text or f"{content.title}\n\n{content.summary}"
        suffix = f"{content.cta_text} {content.link}" if content.cta_text else content.link
        text, cut = compose(text=lead, suffix=suffix, budget=lim.max_length, counter=lim.counter,
                            optional_tail=" ".join(hashtags(content.tags)))
        return Rendered(text=text, length=lim.counter(text), limit=lim.max_length, link=content.link,
                        warnings=("text was shortened to fit",) if cut else ())

    def _url(self, path: str) -> str:
        if not self.account.base_url:
            raise ConfigError([ConfigProblem("accounts.yaml", None, f"accounts.{self.account.id}.base_url",
                                             "a noticeboard account needs base_url")])
        return self.account.base_url.rstrip("/") + path

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.credentials.get('token')}"}

    def _timeouts(self) -> tuple[float, float]:
        return (self.account.connect_timeout_s, self.account.read_timeout_s)

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        """POST the note; map every failure to the error that says what happened."""
        if rendered.length > rendered.limit:
            raise PermanentError(f"note is {rendered.length} long, over {rendered.limit}")
        try:
            resp = self._session.post(self._url("/notes"), json={"text": rendered.text, "ref": publication.marker},
                                      headers=self._headers(), timeout=self._timeouts(), allow_redirects=False)
        except requests.ConnectTimeout:
            raise TransientError("noticeboard did not accept a connection in time") from None
        except requests.ConnectionError as exc:
            # Refused before sending, or broken after: only the first is surely harmless.
            sent = "NewConnectionError" not in repr(exc)
            raise (InDoubt if sent else TransientError)("connection to noticeboard failed") from None
        except requests.Timeout:
            raise InDoubt("noticeboard sent no answer in time") from None
        message = redact(resp.text)[:300] or None
        if resp.status_code == 201:
            try:
                body = resp.json()
                return Receipt(remote_id=str(body["id"]), permalink=str(body["url"]), raw=body)
            except (ValueError, KeyError, TypeError):
                raise InDoubt("noticeboard answered 201 with a body we cannot read") from None
        if resp.status_code == 401:
            raise AuthError("noticeboard refused the token", status=401, platform_message=message)
        if resp.status_code == 429:
            after = resp.headers.get("Retry-After", "")
            wait = int(after) if after.isdigit() else 60
            raise RateLimited("noticeboard asks us to wait", until=datetime.now(UTC) + timedelta(seconds=wait),
                              status=429, platform_message=message)
        if resp.status_code >= 500:
            raise InDoubt("noticeboard failed while posting", status=resp.status_code, platform_message=message)
        raise PermanentError("noticeboard refused the note", status=resp.status_code, platform_message=message)

    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        """The note carrying this publication's marker, None if there is none."""
        try:
            resp = self._session.get(self._url("/notes"), params={"ref": publication.marker},
                                     headers=self._headers(), timeout=self._timeouts())
        except requests.RequestException:
            raise TransientError("cannot ask noticeboard for the note") from None
        if resp.status_code != 200:
            raise InDoubt("noticeboard could not list notes", status=resp.status_code)
        notes = resp.json().get("notes", [])
        if not notes:
            return None
        return Receipt(remote_id=str(notes[0]["id"]), permalink=str(notes[0]["url"]), raw=notes[0])

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()
