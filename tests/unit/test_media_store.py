"""The media store of the channel kit: type sniffing, per-channel checks, fetch once per item
revision, and a bounded disk cache (``syndicate.channels.media``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate.channels import (
    FetchRefused,
    FetchUnavailable,
    MediaSpec,
    MediaStore,
    Medium,
    PermanentError,
    sniff_image_type,
)
from tests.fakes.base import Fault
from tests.fakes.images import GIF, HTML, JPEG, PNG, WEBP, FakeImageHost, png

pytestmark = pytest.mark.usefixtures("loopback_fetches")

LIMIT = timedelta(seconds=5)


@pytest.fixture
def host() -> Iterator[FakeImageHost]:
    with FakeImageHost() as fake:
        yield fake


@pytest.mark.parametrize(("data", "expected"), [
    (PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp"),
    (HTML, None), (b"", None), (b"RIFF\0\0\0\0WAVE", None), (b"GIF88a", None),
])
def test_sniff_image_type_reads_the_bytes(data: bytes, expected: str | None) -> None:
    assert sniff_image_type(data) == expected


def test_media_spec_refuses_a_type_it_does_not_take_naming_item_url_and_what_it_takes() -> None:
    spec = MediaSpec("LinkedIn", {"image/png": 100, "image/jpeg": 100})
    with pytest.raises(PermanentError) as exc:
        spec.check(Medium(WEBP, "image/webp", "https://example.com/a.webp"), item_id="launch-1")
    assert str(exc.value) == ("media https://example.com/a.webp of item launch-1 is a WebP image; "
                              "LinkedIn takes JPEG, PNG")


def test_media_spec_refuses_a_medium_over_its_size_for_the_type() -> None:
    spec = MediaSpec("X", {"image/png": 5 * 1024 * 1024})
    big = Medium(b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "image/png", "https://example.com/a.png")
    with pytest.raises(PermanentError, match=r"is 5,242,888 bytes, larger than X's limit of 5 MB for PNG"):
        spec.check(big, item_id="i")
    spec.check(Medium(PNG, "image/png", "u"), item_id="i")  # and a small one passes


def test_store_fetches_once_per_item_revision_and_url(tmp_path: Path, host: FakeImageHost) -> None:
    # Given a store with a cache directory
    store = MediaStore(tmp_path / "cache")
    url = host.serve("a.png", PNG)
    # When the same image of the same revision is asked for three times (as three accounts would)
    got = [store.load(url, item_id="i", revision=1, time_limit=LIMIT) for _ in range(3)]
    # Then it was fetched once, and every ask has the same bytes and sniffed type
    assert host.fetches("a.png") == 1 and {(m.data, m.content_type) for m in got} == {(PNG, "image/png")}
    # When another revision asks, Then it is fetched again (the image may have changed)
    store.load(url, item_id="i", revision=2, time_limit=LIMIT)
    assert host.fetches("a.png") == 2
    # And a second store on the same directory (another worker on the host) fetches nothing
    MediaStore(tmp_path / "cache").load(url, item_id="i", revision=2, time_limit=LIMIT)
    assert host.fetches("a.png") == 2


def test_store_without_a_directory_fetches_every_time(host: FakeImageHost) -> None:
    store = MediaStore(None)
    url = host.serve("a.png", PNG)
    for _ in range(2):
        store.load(url, item_id="i", revision=1, time_limit=LIMIT)
    assert host.fetches("a.png") == 2


def test_store_types_by_the_bytes_not_the_header(tmp_path: Path, host: FakeImageHost) -> None:
    # Given a JPEG served as image/png
    url = host.serve("photo", JPEG, "image/png")
    # When loaded, Then its type is the bytes' type
    assert MediaStore(tmp_path).load(url, item_id="i", revision=1, time_limit=LIMIT).content_type == "image/jpeg"


def test_store_refuses_bytes_that_are_not_an_image_naming_item_and_url(tmp_path: Path, host: FakeImageHost) -> None:
    url = host.serve("fake.png", HTML, "image/png")
    with pytest.raises(FetchRefused) as exc:
        MediaStore(tmp_path).load(url, item_id="launch-1", revision=3, time_limit=LIMIT)
    assert str(exc.value) == (f"cannot use media {url} of item launch-1 (revision 3): its bytes are not a JPEG, PNG, "
                              "GIF or WebP image (the server called it image/png)")
    # And nothing was cached
    assert MediaStore(tmp_path).cached_bytes() == 0


def test_store_refuses_a_header_type_that_is_no_image(tmp_path: Path, host: FakeImageHost) -> None:
    url = host.serve("page", HTML, "text/html")
    with pytest.raises(FetchRefused, match=r"of item i \(revision 1\): text/html is not one of"):
        MediaStore(tmp_path).load(url, item_id="i", revision=1, time_limit=LIMIT)


@pytest.mark.parametrize(("status", "error"), [(404, FetchRefused), (403, FetchRefused), (500, FetchUnavailable),
                                               (503, FetchUnavailable), (429, FetchUnavailable)])
def test_store_fetch_failure_is_permanent_for_4xx_and_transient_for_5xx(
    tmp_path: Path, host: FakeImageHost, status: int, error: type[Exception]
) -> None:
    url = host.serve("a.png", PNG)
    host.fail_next(Fault("status", method="GET", status=status))
    with pytest.raises(error, match=rf"cannot fetch media {url} of item i \(revision 1\): the server answered "
                                    rf"HTTP {status}"):
        MediaStore(tmp_path).load(url, item_id="i", revision=1, time_limit=LIMIT)
    # And the next ask fetches again (a failure is not cached)
    assert MediaStore(tmp_path).load(url, item_id="i", revision=1, time_limit=LIMIT).data == PNG


def test_store_refuses_a_public_looking_name_for_a_private_address(tmp_path: Path) -> None:
    # Given a name that resolves to a private address (the resolver stands in for DNS)
    store = MediaStore(tmp_path, resolver=lambda host, port: ["10.1.2.3"])
    # Then it is refused with the fetcher's generic reason, naming the item and the URL
    with pytest.raises(FetchRefused, match=r"cannot fetch media https://cdn\.example\.com/a\.png of item i "
                                           r"\(revision 1\): the URL does not lead to a public address"):
        store.load("https://cdn.example.com/a.png", item_id="i", revision=1, time_limit=LIMIT)


def test_store_checks_the_channel_spec_also_on_a_cache_hit(tmp_path: Path, host: FakeImageHost) -> None:
    url = host.serve("a.webp", WEBP, "image/webp")
    store = MediaStore(tmp_path)
    store.load(url, item_id="i", revision=1, time_limit=LIMIT)  # X takes WebP: cached
    with pytest.raises(PermanentError, match="is a WebP image; LinkedIn takes"):
        store.load(url, item_id="i", revision=1, time_limit=LIMIT, spec=MediaSpec("LinkedIn", {"image/png": 10**6}))
    assert host.fetches("a.webp") == 1


def test_store_stays_under_its_bound_dropping_the_least_recently_used(tmp_path: Path, host: FakeImageHost) -> None:
    # Given a cache bounded to hold two of three images
    images = {name: png(width=40 + i) for i, name in enumerate(("a", "b", "c"))}
    urls = {name: host.serve(name, data) for name, data in images.items()}
    bound = len(images["b"]) + len(images["c"]) + 1
    store = MediaStore(tmp_path, max_bytes=bound)
    store.load(urls["a"], item_id="i", revision=1, time_limit=LIMIT)
    store.load(urls["b"], item_id="i", revision=1, time_limit=LIMIT)
    # And "a" was used again most recently ("b" is the least recently used)
    for f in tmp_path.iterdir():
        os.utime(f, (1, 1))  # both old ...
    store.load(urls["a"], item_id="i", revision=1, time_limit=LIMIT)  # ... "a" touched now
    # When "c" comes in
    store.load(urls["c"], item_id="i", revision=1, time_limit=LIMIT)
    # Then the cache is within its bound, "b" went, "a" and "c" are answered from disk
    assert store.cached_bytes() <= bound
    store.load(urls["a"], item_id="i", revision=1, time_limit=LIMIT)
    store.load(urls["c"], item_id="i", revision=1, time_limit=LIMIT)
    assert (host.fetches("a"), host.fetches("c")) == (1, 1)
    store.load(urls["b"], item_id="i", revision=1, time_limit=LIMIT)
    assert host.fetches("b") == 2


def test_store_fetches_again_when_a_cached_file_is_damaged(tmp_path: Path, host: FakeImageHost) -> None:
    url = host.serve("a.png", PNG)
    store = MediaStore(tmp_path)
    store.load(url, item_id="i", revision=1, time_limit=LIMIT)
    (tmp_path / MediaStore.key("i", 1, url)).write_bytes(b"garbage")
    assert store.load(url, item_id="i", revision=1, time_limit=LIMIT).data == PNG
    assert host.fetches("a.png") == 2
