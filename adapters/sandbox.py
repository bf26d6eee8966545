"""Sandbox channel: writes each post it would make to a directory and returns a ``file://`` link.

Used by the embedded default and for trying routes without credentials. Each publication becomes
``<outbox>/<account>/<item>/r<revision>.<locale>.<slot>.txt`` (the exact text) plus a ``.json``
with the metadata (link, UTM, media, warnings). Writing the same publication twice replaces the
same files, so a repeat is harmless (``idempotent``).

**Standing in for a real channel.** With ``as: x`` (or ``linkedin``, ``wordpress``, ``feeds``,
``webhooks``, or any installed adapter's name) the account renders with that adapter's own
``render`` (pure, no I/O) and limits: X's weighted length and hashtags, LinkedIn's escaped
commentary, WordPress's sanitized HTML. So ``syndicate preview`` and the outbox show what would
really be posted, and the sandbox writes it instead of publishing. ``as_options`` are the real
adapter's ``options:`` (checked as they would be for a real account); the account's ``base_url``
is passed on (a WordPress stand-in needs one). The adapter is found through the registry, never
imported by name. Rate limits and credentials are not simulated.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from syndicate.base.secrets import Credentials
from syndicate.channels import (
    AccountContext,
    Adapter,
    Capability,
    ConfigError,
    Limits,
    PermanentError,
    PostContent,
    PublicationRef,
    Receipt,
    Rendered,
    Safety,
    TransientError,
    compose,
    hashtags,
)
from syndicate.channels.contract import default_registry

__all__ = ["SandboxAdapter"]


class SandboxOptions(BaseModel):
    """Options of a sandbox account.

    Attributes:
        directory: where posts are written (default ``$SYNDICATE_OUTBOX``, else ``./outbox``).
        max_length: longest post, in code points, to exercise cutting like a real channel.
        style: ``short`` (social post: text, call to action, link, hashtags) or ``article``
            (title, summary and body, for blog-like targets).
        stand_in: (``as:`` in YAML) the adapter to render like: its ``render`` and limits are
            used, so ``max_length`` and ``style`` do not apply.
        as_options: that adapter's options.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    directory: str | None = None
    max_length: int = Field(default=3000, ge=50, le=100_000)
    style: Literal["short", "article"] = "short"
    stand_in: str | None = Field(default=None, alias="as", pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    as_options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _stand_in(self) -> SandboxOptions:
        if self.stand_in is None:
            if self.as_options:
                raise ValueError("as_options: set 'as' to the adapter these options are for")
            return self
        overridden = sorted({"max_length", "style"} & self.model_fields_set)
        if overridden:
            raise ValueError(f"{' and '.join(overridden)}: do not apply with 'as: {self.stand_in}' "
                             f"(the {self.stand_in} adapter's own limits and rendering are used)")
        stand_in_options(self.stand_in, self.as_options)
        return self


def stand_in_options(name: str, options: dict[str, Any]) -> tuple[type[Adapter], BaseModel]:
    """The adapter called ``name`` and ``options`` validated for it.

    Raises:
        ValueError: no such adapter, the sandbox itself, or invalid options (every problem listed).
    """
    registry = default_registry()
    try:
        cls = registry.get(name)
    except ConfigError as exc:
        raise ValueError(f"as: {exc}") from None
    if cls is None or cls is SandboxAdapter:
        others = [n for n in registry.names() if n != SandboxAdapter.name]
        raise ValueError(f"as: {name!r} is not an adapter the sandbox can stand in for; installed: {', '.join(others)}")
    try:
        return cls, cls.Options.model_validate(options)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(options)'}: "
                             f"{str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors())
        raise ValueError(f"as_options (for {name}): {problems}") from None


def _outbox(options: SandboxOptions) -> Path:
    return Path(options.directory or os.environ.get("SYNDICATE_OUTBOX") or "outbox").resolve()


class SandboxAdapter(Adapter[SandboxOptions]):
    """Writes posts to files instead of a platform."""

    name = "sandbox"
    #: Receipts point at files this adapter wrote (``file://``) unless the files are served.
    permalink_schemes = frozenset({"https", "http", "file"})
    publish_safety = Safety.IDEMPOTENT
    uses_network = False
    #: A revision rewrites the post's file in place; ``unpublish`` removes it.
    capabilities = frozenset({Capability.UPDATE, Capability.DELETE, Capability.EXISTS})

    def __init__(self, account: AccountContext) -> None:
        super().__init__(account)
        self._real: Adapter | None = None
        stand_in = self.options.stand_in
        if stand_in is not None:
            cls, options = stand_in_options(stand_in, self.options.as_options)
            # No credentials and no state: rendering needs neither, and nothing is ever sent.
            self._real = cls(replace(account, options=options, credentials=Credentials(account.id, {}), state=None))

    @property
    def label(self) -> str:
        """``sandbox``, or ``sandbox as x`` for a stand-in."""
        return f"{self.name} as {self.options.stand_in}" if self.options.stand_in else self.name

    @property
    def limits(self) -> Limits:
        """A code-point limit from the account's ``max_length``, or the stood-in channel's limits
        (without its rate windows: the outbox takes any number of posts)."""
        if self._real is not None:
            return replace(self._real.limits, rate_windows=())
        return Limits(max_length=self.options.max_length)

    def render(self, content: PostContent) -> Rendered:
        """Compose the post; ``article`` style keeps the whole body; a stand-in renders as its channel."""
        if self._real is not None:
            return self._real.render(content)
        lim = self.limits
        warnings = [f"media {m.url} has no alt text" for m in content.media if not m.alt]
        if self.options.style == "article":
            text = "\n\n".join(p for p in (content.title, content.summary, content.body,
                                           f"{content.cta_text or ''} {content.cta_url or content.link}".strip(),
                                           f"Originally published at {content.link}") if p)
            return Rendered(text=text, length=lim.counter(text), limit=lim.max_length, link=content.link,
                            title=content.title, media=content.media, warnings=tuple(warnings))
        lead = content.channel_text or content.variant or f"{content.title}\n\n{content.summary}"
        suffix = f"{content.cta_text} {content.link}" if content.cta_text else content.link
        text, cut = compose(text=lead, suffix=suffix, budget=lim.max_length, counter=lim.counter,
                            optional_tail=" ".join(hashtags(content.tags)))
        if cut:
            warnings.append("text was shortened to fit the channel")
        return Rendered(text=text, length=lim.counter(text), limit=lim.max_length, link=content.link,
                        media=content.media, warnings=tuple(warnings))

    def _path(self, publication: PublicationRef) -> Path:
        safe_item = publication.item_id.replace("/", "_")
        return (_outbox(self.options) / publication.account / safe_item /
                f"r{publication.revision}.{publication.locale}.{publication.slot}.txt")

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        """Write the text and its metadata atomically; the permalink is the text file's URL."""
        if rendered.length > rendered.limit:
            raise PermanentError(f"post is {rendered.length} long, over the limit of {rendered.limit}")
        path = self._path(publication)
        meta = {
            "key": publication.key, "marker": publication.marker, "account": publication.account,
            "locale": publication.locale, "link": rendered.link, "tagged_url": publication.tagged_url,
            "title": rendered.title, "format": rendered.format, "length": rendered.length, "limit": rendered.limit,
            "media": [asdict(m) for m in rendered.media], "warnings": list(rendered.warnings),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, rendered.text)
            _atomic_write(path.with_suffix(".json"), json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise TransientError(f"cannot write to the outbox {path.parent}: {exc.strerror}") from None
        return Receipt(remote_id=publication.marker, permalink=path.as_uri(), raw={"path": str(path)})

    def _file_of(self, remote_id: str, publication: PublicationRef) -> Path | None:
        """The text file of the post ``remote_id`` (the marker of the publication that wrote it)."""
        folder = _outbox(self.options) / publication.account / publication.item_id.replace("/", "_")
        for meta_path in sorted(folder.glob("*.json")):
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if meta.get("marker") == remote_id and meta_path.with_suffix(".txt").exists():
                return meta_path.with_suffix(".txt")
        return None

    def update(self, rendered: Rendered, publication: PublicationRef, remote_id: str) -> Receipt:
        """Rewrite the post's file with the new revision: same file, same permalink."""
        path = self._file_of(remote_id, publication)
        if path is None:
            raise PermanentError(f"the outbox file of post {remote_id} of the earlier revision no longer exists")
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        meta.update({"key": publication.key, "link": rendered.link, "tagged_url": publication.tagged_url,
                     "title": rendered.title, "length": rendered.length, "revision": publication.revision,
                     "warnings": list(rendered.warnings)})
        try:
            _atomic_write(path, rendered.text)
            _atomic_write(path.with_suffix(".json"), json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise TransientError(f"cannot write to the outbox {path.parent}: {exc.strerror}") from None
        return Receipt(remote_id=remote_id, permalink=path.as_uri(), raw={"path": str(path)})

    def delete(self, remote_id: str, publication: PublicationRef) -> None:
        """Remove the post's file and its metadata; a file already gone is done."""
        path = self._file_of(remote_id, publication)
        if path is not None:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)

    def exists(self, remote_id: str, publication: PublicationRef) -> bool:
        """Whether the post's file is still in the outbox."""
        return self._file_of(remote_id, publication) is not None

    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        """The written file, if its metadata carries this publication's marker."""
        path = self._path(publication)
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("marker") != publication.marker or not path.exists():
            return None
        return Receipt(remote_id=publication.marker, permalink=path.as_uri(), raw={"path": str(path)})

    def close(self) -> None:
        """Close the stood-in adapter (it never opened a connection, but it may own a session object)."""
        if self._real is not None:
            self._real.close()


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(0o644)  # mkstemp makes 0600; the outbox is meant to be read by others
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
