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

from pydantic import BaseModel, ConfigDict, Field

from syndicate.channels import (
    HttpAdapter,
    InDoubt,
    Limits,
    PermanentError,
    PostContent,
    PublicationRef,
    Receipt,
    Rendered,
    Safety,
    compose,
    hashtags,
)

__all__ = ["NoticeboardAdapter", "NoticeboardOptions"]


class NoticeboardOptions(BaseModel):
    """What an account may set under ``options:`` in accounts.yaml."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    max_length: int = Field(default=500, ge=50, le=5000)


class NoticeboardAdapter(HttpAdapter[NoticeboardOptions]):
    """Posts one note per publication. The kit (``HttpAdapter``) holds the session, sends with the
    account's timeouts and ``base_url``, and maps every failure and status to our errors."""

    name = "noticeboard"
    required_credentials = ("token",)
    publish_safety = Safety.RECONCILE_ONLY

    @property
    def limits(self) -> Limits:
        """Code points, up to the account's ``max_length``."""
        return Limits(max_length=self.options.max_length, max_media=0)

    def render(self, content: PostContent) -> Rendered:
        """Title and summary, then the call to action and the link (always kept), then hashtags."""
        lim = self.limits
        lead = content.channel_text or f"{content.title}\n\n{content.summary}"
        suffix = f"{content.cta_text} {content.link}" if content.cta_text else content.link
        text, cut = compose(text=lead, suffix=suffix, budget=lim.max_length, counter=lim.counter,
                            optional_tail=" ".join(hashtags(content.tags)))
        return Rendered(text=text, length=lim.counter(text), limit=lim.max_length, link=content.link,
                        warnings=("text was shortened to fit",) if cut else ())

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.credentials.get('token')}"}

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        """POST the note; any answer but 201 becomes the error the kit's table gives it."""
        if rendered.length > rendered.limit:
            raise PermanentError(f"note is {rendered.length} long, over {rendered.limit}")
        resp = self.request("POST", self.url_for("/notes"), creates=True, what="the note", expect=(201,),
                            json={"text": rendered.text, "ref": publication.marker}, headers=self._headers())
        body = self.json(resp, creates=True, what="the note")  # cut short or not JSON: in doubt
        if not (isinstance(body, dict) and "id" in body and "url" in body):
            raise InDoubt("noticeboard answered 201 without the note's id and url", status=201)
        return Receipt(remote_id=str(body["id"]), permalink=str(body["url"]), raw=body)

    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        """The note carrying this publication's marker, None if there is none."""
        resp = self.request("GET", self.url_for("/notes"), creates=False, what="listing notes", expect=(200,),
                            params={"ref": publication.marker}, headers=self._headers())
        notes = self.json(resp, creates=False, what="listing notes").get("notes", [])
        if not notes:
            return None
        return Receipt(remote_id=str(notes[0]["id"]), permalink=str(notes[0]["url"]), raw=notes[0])
