"""A loopback web server holding an item's images, counting how often each is fetched.

Tests name its URLs in items' ``media``; the guarded fetcher reaches it only with the test opt-in
for loopback (the ``loopback_fetches`` fixture). ``serve`` takes any bytes and any content type,
so a test can serve an HTML page labelled ``image/png`` or a WebP image to a channel that takes
none. Faults are the :class:`~tests.fakes.base.FakeServer` ones (``fail_next``).
"""

from __future__ import annotations

import struct
import zlib

from tests.fakes.base import FakeServer, Request, Response

__all__ = ["GIF", "HTML", "JPEG", "PNG", "WEBP", "FakeImageHost", "png"]


def png(width: int = 2, height: int = 1) -> bytes:
    """A valid PNG of ``width`` x ``height`` black pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + b"\0\0\0" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = png()
#: The start of a JPEG (SOI, APP0 JFIF) and its end: enough for type sniffing.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64 + b"\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00" \
      b"\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
HTML = b"<!DOCTYPE html><html><body>Not an image</body></html>"


class FakeImageHost(FakeServer):
    """Serves ``/img/<name>``; :meth:`fetches` counts the GETs of one name."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}
        self.route("GET", r"/img/(?P<name>[^/]+)", self._get)

    def serve(self, name: str, data: bytes, content_type: str = "image/png") -> str:
        """Serve ``data`` as ``content_type`` at ``/img/<name>``; returns its URL."""
        self.files[name] = (data, content_type)
        return f"{self.url}/img/{name}"

    def fetches(self, name: str) -> int:
        """How many times ``/img/<name>`` was asked for."""
        return sum(1 for r in self.requests if r.method == "GET" and r.path == f"/img/{name}")

    def _get(self, req: Request) -> Response:
        found = self.files.get(req.path_params["name"])
        if found is None:
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        data, content_type = found
        return Response(200, data, {"Content-Type": content_type})
