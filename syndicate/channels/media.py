"""An item's images, fetched once per item revision, checked per channel, cached on disk.

Adapters that upload or describe what an item names (X, LinkedIn, WordPress, feeds) ask the
account's :class:`MediaStore` (``AccountContext.media``) for each image:

* **fetched once per item revision**: the first ask for ``(item id, revision, URL)`` fetches the
  URL through the guarded fetcher (:func:`~.fetching.fetch`: public addresses only, byte and time
  caps) and keeps the bytes in the cache; every later ask, by any account and any worker sharing
  the cache directory, reads them from there. A new revision of the item is a new key, so an image
  replaced at the same URL is fetched again for the new revision;
* **type sniffed from the bytes**: the answer's ``Content-Type`` must name an image type, and the
  bytes must start like one (JPEG, PNG, GIF, WebP); the type the bytes show is the one we upload
  and declare, whatever the header said;
* **checked per channel**: a :class:`MediaSpec` says which types a channel takes and how large
  each may be; :meth:`MediaSpec.check` refuses the rest with a :class:`~syndicate.errors.PermanentError`
  naming the item, the URL and the limit.

The cache is a directory of files named by a hash of the key, written atomically (temporary file,
then rename), so workers on one host share it safely. It is bounded: when the files pass
``max_bytes`` the least recently used are removed. Workers on different hosts each fetch once
(point them at a shared directory to fetch once in all). Within one process, concurrent asks for
the same key wait for one fetch.

Errors name the item and the URL: :class:`~syndicate.errors.FetchRefused` (permanent: not a
public address, a 4xx, too large, not an image) or :class:`~syndicate.errors.FetchUnavailable`
(transient: no connection, a 5xx, the time limit). Nothing is lost: the publication fails or is
retried, and the item keeps its media.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..base.logging import get_logger
from ..errors import FetchRefused, FetchUnavailable, PermanentError
from .fetching import Resolver, fetch

if TYPE_CHECKING:
    from .contract import MediaRef

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "IMAGE_EXTENSIONS",
    "MAX_MEDIA_BYTES",
    "MediaSpec",
    "MediaStore",
    "Medium",
    "images_to_attach",
    "sniff_image_type",
]

log = get_logger("channels.media")

#: The largest medium fetched at all (any channel's own limit is at most this).
MAX_MEDIA_BYTES = 20 * 1024 * 1024
#: What the on-disk cache holds at most by default.
DEFAULT_CACHE_BYTES = 512 * 1024 * 1024
#: Image types we know, and the file extension each gets when uploaded.
IMAGE_EXTENSIONS: Mapping[str, str] = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
                                       "image/webp": ".webp"}
#: Header types a fetch accepts (the bytes decide the real type). ``image/jpg`` and ``image/pjpeg``
#: are common misspellings servers send for JPEG.
_ACCEPTED_HEADERS = frozenset({*IMAGE_EXTENSIONS, "image/jpg", "image/pjpeg"})
_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WebP"}
_LOCK_STRIPES = 64


def images_to_attach(media: Sequence[MediaRef], limit: int, warnings: list[str], *,
                     where: str = "") -> tuple[MediaRef, ...]:
    """The images among ``media`` that a post attaches, at most ``limit``; a warning in
    ``warnings`` for the videos left out (``where``: the platform, for the message), the images
    over the limit, and each image without alt text."""
    images = [m for m in media if m.kind == "image"]
    if len(images) < len(media):
        warnings.append("videos not attached: only images are uploaded" + (f" to {where}" if where else ""))
    if len(images) > limit:
        warnings.append(f"only the first {limit} images are attached")
    images = images[:limit]
    warnings.extend(f"media {m.url} has no alt text" for m in images if not m.alt)
    return tuple(images)


def sniff_image_type(data: bytes) -> str | None:
    """The image type ``data`` starts like (``image/png``, ...), or None when it is none we know."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class Medium:
    """An image's bytes and the type they show.

    Attributes:
        data: the bytes.
        content_type: the type sniffed from the bytes (one of :data:`IMAGE_EXTENSIONS`).
        url: the item's URL for it (before redirects).
    """

    data: bytes
    content_type: str
    url: str

    @property
    def size(self) -> int:
        """Length in bytes."""
        return len(self.data)

    @property
    def extension(self) -> str:
        """The file extension of its type (``.png``)."""
        return IMAGE_EXTENSIONS[self.content_type]

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes."""
        return hashlib.sha256(self.data).hexdigest()


def _type_name(content_type: str) -> str:
    return _NAMES.get(content_type, content_type)


@dataclass(frozen=True)
class MediaSpec:
    """What one channel takes: the image types and the largest size of each, in bytes.

    Attributes:
        platform: the channel's name in messages.
        max_bytes: type → largest size in bytes; a type not listed is refused.
    """

    platform: str
    max_bytes: Mapping[str, int] = field(default_factory=dict)

    @property
    def types(self) -> frozenset[str]:
        """The types taken."""
        return frozenset(self.max_bytes)

    def check(self, medium: Medium, *, item_id: str) -> None:
        """Refuse ``medium`` if this channel does not take its type or size.

        Raises:
            PermanentError: naming the item, the URL, what it is and what the channel takes.
        """
        limit = self.max_bytes.get(medium.content_type)
        if limit is None:
            taken = ", ".join(sorted(_type_name(t) for t in self.max_bytes)) or "no images"
            raise PermanentError(f"media {medium.url} of item {item_id} is a {_type_name(medium.content_type)} "
                                 f"image; {self.platform} takes {taken}")
        if medium.size > limit:
            raise PermanentError(f"media {medium.url} of item {item_id} is {medium.size:,} bytes, larger than "
                                 f"{self.platform}'s limit of {_megabytes(limit)} for "
                                 f"{_type_name(medium.content_type)}")


def _megabytes(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{n:,} bytes"


class MediaStore:
    """Fetches an item's media once per item revision and keeps them in a bounded disk cache.

    Args:
        directory: where cached files live (created on first write); None keeps nothing, so every
            ask fetches (adapters built without a runtime).
        max_bytes: the most the directory holds; least recently used files go first.
        max_file_bytes: the largest medium fetched.
        resolver: resolves host names for the fetcher (tests); default the system's.
        ca_certs: CA bundle for https fetches (tests); default certifi's.
    """

    def __init__(self, directory: Path | str | None = None, *, max_bytes: int = DEFAULT_CACHE_BYTES,
                 max_file_bytes: int = MAX_MEDIA_BYTES, resolver: Resolver | None = None,
                 ca_certs: str | None = None) -> None:
        self.directory = Path(directory).resolve() if directory is not None else None
        self.max_bytes = max_bytes
        self.max_file_bytes = max_file_bytes
        self._resolver = resolver
        self._ca_certs = ca_certs
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]
        self._evicting = threading.Lock()
        #: Fetches made by this store (not answered from the cache).
        self.fetches = 0

    @staticmethod
    def key(item_id: str, revision: int, url: str) -> str:
        """The cache key of ``url`` in revision ``revision`` of item ``item_id`` (hex)."""
        return hashlib.sha256(f"{item_id}\0{revision}\0{url}".encode()).hexdigest()

    def load(self, url: str, *, item_id: str, revision: int, time_limit: timedelta,
             spec: MediaSpec | None = None) -> Medium:
        """The image at ``url`` for this item revision: from the cache, else fetched and cached.

        Args:
            url: the item's media URL.
            item_id: the item, for the key and for messages.
            revision: the item's revision.
            time_limit: for the whole fetch, redirects included.
            spec: when given, the medium is checked against it (:meth:`MediaSpec.check`).

        Raises:
            FetchRefused: not fetched and never will be (naming the item and the URL).
            FetchUnavailable: not fetched this time (naming the item and the URL).
            PermanentError: ``spec`` does not take it.
        """
        key = self.key(item_id, revision, url)
        with self._locks[int(key[:8], 16) % _LOCK_STRIPES]:
            medium = self._cached(key, url)
            if medium is None:
                medium = self._fetch(url, item_id=item_id, revision=revision, time_limit=time_limit)
                self._store(key, medium)
        if spec is not None:
            spec.check(medium, item_id=item_id)
        return medium

    # -- fetching ------------------------------------------------------------------------------

    def _fetch(self, url: str, *, item_id: str, revision: int, time_limit: timedelta) -> Medium:
        where = f"media {url} of item {item_id} (revision {revision})"
        try:
            got = fetch(url, max_bytes=self.max_file_bytes, time_limit=time_limit, content_types=_ACCEPTED_HEADERS,
                        resolver=self._resolver, ca_certs=self._ca_certs)
        except (FetchRefused, FetchUnavailable) as exc:
            raise type(exc)(f"cannot fetch {where}: {exc}") from None
        finally:
            self.fetches += 1
        sniffed = sniff_image_type(got.data)
        if sniffed is None:
            raise FetchRefused(f"cannot use {where}: its bytes are not a JPEG, PNG, GIF or WebP image "
                               f"(the server called it {got.content_type})")
        log.info("media.fetched", item=item_id, revision=revision, url=url, bytes=len(got.data), type=sniffed)
        return Medium(got.data, sniffed, url)

    # -- the cache -----------------------------------------------------------------------------

    def _path(self, key: str) -> Path | None:
        return self.directory / key if self.directory is not None else None

    def _cached(self, key: str, url: str) -> Medium | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        sniffed = sniff_image_type(data)
        if sniffed is None:  # damaged: fetch again
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        return Medium(data, sniffed, url)

    def _store(self, key: str, medium: Medium) -> None:
        path = self._path(key)
        if path is None or self.directory is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(medium.data)
                Path(tmp).replace(path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            # A cache that cannot be written costs a fetch later, nothing else.
            log.warning("media.cache_unwritable", directory=str(self.directory), error=exc.strerror)
            return
        self._evict()

    def _evict(self) -> None:
        """Remove the least recently used files until the directory holds at most ``max_bytes``."""
        assert self.directory is not None
        with self._evicting:
            files: list[tuple[float, int, Path]] = []
            for entry in os.scandir(self.directory):
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                files.append((st.st_mtime, st.st_size, Path(entry.path)))
            total = sum(size for _, size, _ in files)
            for _, size, path in sorted(files, key=lambda f: f[0]):
                if total <= self.max_bytes:
                    break
                path.unlink(missing_ok=True)
                total -= size

    def cached_bytes(self) -> int:
        """What the cache directory holds now, in bytes."""
        if self.directory is None or not self.directory.is_dir():
            return 0
        return sum(e.stat().st_size for e in os.scandir(self.directory) if e.is_file() and not e.name.startswith("."))
