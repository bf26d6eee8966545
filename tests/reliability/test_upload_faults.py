"""The fault matrix of media: every channel that uploads images × every fault of the upload, of
the image's own host, and of the post after the upload; each publication ends in the right state
with exactly one post (or none) carrying its image, and no image uploaded twice where the platform
lets a retry find the first upload.

An upload creates an orphan, not the post: a lost answer to an upload is retried (the retry reuses
the upload when the platform can tell it arrived), while a lost answer to the post is in doubt and
reconciled, as in the main matrix (``test_fault_matrix.py``). The fakes are the oracle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from syndicate.publishing.steps import do_publish
from tests.fakes.base import FakeServer, Fault
from tests.fakes.images import PNG, FakeImageHost
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.wordpress import FakeWordPress
from tests.fakes.x import FakeX
from tests.reliability.channels import WAIT_S, Channel, make_channel
from tests.reliability.matrix import enqueued_one, runtime_for, settle

pytestmark = pytest.mark.usefixtures("loopback_fetches")

#: Per channel: the upload request (method, path) and the account options that turn uploads on.
UPLOADS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "linkedin": ("PUT", r"^/dms-uploads/", {"share_as": "image"}),
    "wordpress": ("POST", r"^/wp-json/wp/v2/media$", {"upload_media": True}),
    "x": ("POST", r"^/1\.1/media/upload\.json$", {}),
}


@dataclass(frozen=True)
class UploadFault:
    """A fault, where it strikes (``upload``, ``image`` host or the ``post``), and what it leads to."""

    where: str
    build: Callable[[Channel, str, str], Fault]
    first: str
    final: str
    holds_account: bool = False


def _status(status: int, headers: dict[str, str] | None = None) -> Callable[[Channel, str, str], Fault]:
    def build(ch: Channel, method: str, path: str) -> Fault:
        body, base = ch.error_body(status, "upload refused")
        return Fault("status", method=method, path=path, status=status, body=body, headers={**base, **(headers or {})})

    return build


FAULTS: dict[str, UploadFault] = {
    "upload answer lost after the bytes arrived": UploadFault(
        "upload", lambda ch, m, p: Fault("stall", when="after", method=m, path=p, seconds=ch.read_timeout_s * 2.5),
        "retrying", "published"),
    "upload connection reset after the bytes arrived": UploadFault(
        "upload", lambda ch, m, p: Fault("close", when="after", method=m, path=p), "retrying", "published"),
    "upload 500 before anything was stored": UploadFault("upload", _status(500), "retrying", "published"),
    "upload 502 from a gateway": UploadFault("upload", _status(502), "retrying", "published"),
    "upload 429 with Retry-After": UploadFault("upload", _status(429, {"Retry-After": str(WAIT_S)}), "deferred",
                                               "published"),
    "upload 401 credentials refused": UploadFault("upload", _status(401), "failed", "failed", holds_account=True),
    "image host 503": UploadFault(
        "image", lambda ch, m, p: Fault("status", method="GET", status=503), "retrying", "published"),
    "image host stalls past the time limit": UploadFault(
        "image", lambda ch, m, p: Fault("stall", method="GET", seconds=3.0), "retrying", "published"),
    "image host 404": UploadFault(
        "image", lambda ch, m, p: Fault("status", method="GET", status=404), "failed", "failed"),
    "post answer lost after the upload": UploadFault(
        "post", lambda ch, m, p: ch.fault("stall", when="after", seconds=ch.read_timeout_s * 2.5), "in_doubt",
        "published"),
}


@pytest.fixture(params=sorted(UPLOADS))
def channel(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Channel]:
    ch = make_channel(request.param, "upload-credential-5d1e7b", tmp_path)
    ch.start()
    yield ch
    ch.stop()


@pytest.fixture
def host() -> Iterator[FakeImageHost]:
    with FakeImageHost() as fake:
        yield fake


def _with_upload_options(ch: Channel, options: dict[str, Any]) -> None:
    """Turn the channel's image uploads on (the account entry the matrix writes, plus options)."""
    account = ch.account

    def with_options(base_url: str) -> dict[str, Any]:
        acct = account(base_url)
        return {**acct, "options": {**acct.get("options", {}), **options}}

    ch.account = with_options  # type: ignore[method-assign]


def _images_on_platform(fake: FakeServer) -> int:
    """Images the platform holds that a post may use (uploaded and complete)."""
    if isinstance(fake, FakeLinkedIn):
        return sum(1 for i in fake.images.values() if i.status == "AVAILABLE")
    if isinstance(fake, FakeWordPress):
        return len(fake.media)
    assert isinstance(fake, FakeX)
    return len(fake.media)


def _post_image(fake: FakeServer) -> bool:
    """Whether the one post holds an uploaded image."""
    if isinstance(fake, FakeLinkedIn):
        [post] = fake.created()
        return fake.images[post["content"]["media"]["id"]].status == "AVAILABLE"
    if isinstance(fake, FakeWordPress):
        [post] = fake.posts.values()
        return post["featured_media"] in fake.media
    assert isinstance(fake, FakeX)
    [post] = fake.posts
    return len(post.media_ids) == 1 and post.media_ids[0] in fake.media


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_upload_fault_ends_in_the_right_state_with_one_post_and_its_image(
    channel: Channel, host: FakeImageHost, fault: str, config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    case = FAULTS[fault]
    method, path, options = UPLOADS[channel.name]
    _with_upload_options(channel, options)
    url = host.serve("chart.png", PNG)
    with runtime_for(channel, config_dir, sqlite_url, channel.fake.url) as rt:
        # Given one enqueued publication of an item with an image, and the fault queued
        pid = enqueued_one(rt, media=[{"url": url, "alt": "A chart"}])
        target = host if case.where == "image" else channel.fake
        target.fail_next(case.build(channel, method, path))
        # When the worker publishes, Then the first attempt records what the fault means
        first = do_publish(rt, pid)
        assert first == case.first, rt.ledger.publication(pid)
        # And driven on as the worker would, the publication ends terminal and in the right state
        later = settle(rt, pid)
        pub = rt.ledger.publication(pid)
        assert pub is not None and pub.state == case.final, (later, pub.last_error)
        status, _ = rt.ledger.account_status(channel.account_id)
    # And the platform holds exactly one post with its image for a published row, none for a failed one
    assert channel.posts() == (1 if case.final == "published" else 0)
    if case.final == "published":
        assert _post_image(channel.fake)
        if channel.name != "x":  # LinkedIn and WordPress let the retry find an upload that arrived
            assert _images_on_platform(channel.fake) == 1
    else:
        assert pub.last_error
        if case.where == "image":
            assert url in pub.last_error and pub.item_id in pub.last_error
    assert status == ("needs_credentials" if case.holds_account else "ok")
    # And the image was fetched from its host once per successful fetch, whatever was retried
    assert host.fetches("chart.png") == (2 if case.where == "image" and case.final == "published" else 1)
