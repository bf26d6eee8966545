"""X fetches an item's images through the guarded fetcher: a redirect into the network fails the
publication with a generic reason, and nothing is uploaded or posted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate import Runtime, submit
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.fakes.base import Response
from tests.fakes.x import FakeX, x_account, x_environ
from tests.helpers import item_data, simple_route

#: The fake X serves the item's images on loopback: open loopback (only) to media fetches.
pytestmark = pytest.mark.usefixtures("loopback_fetches")


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


@pytest.fixture
def rt(config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> Iterator[Runtime]:
    cfg = config_dir(accounts={"x-na": x_account(fx, username="example")},
                     routes=[simple_route("na", ["en-US"], ["x-na"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ=x_environ(fx)) as runtime:
        yield runtime


def _due(rt: Runtime, media_url: str) -> int:
    sub = submit(item_data(media=[{"url": media_url, "alt": "A chart"}]), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
    return pub.id


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/iam/", "http://10.0.0.5:6379/",
                                    "http://[::ffff:192.168.1.1]/admin"])
def test_an_image_url_that_redirects_into_the_network_fails_the_post_with_a_generic_reason(
        rt: Runtime, fx: FakeX, target: str) -> None:
    # Given an item whose image URL answers with a redirect to an internal address
    fx.route("GET", "/moved/chart.png", lambda req: Response(302, b"", {"Location": target}))
    pid = _due(rt, f"{fx.url}/moved/chart.png")
    # When published
    assert do_publish(rt, pid) == "failed"
    # Then the reason names the item and the URL and says the URL is not public, without saying
    # what answered where
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.last_error == (
        f"cannot fetch media {fx.url}/moved/chart.png of item {pub.item_id} (revision 1): "
        "the URL does not lead to a public address")
    # And nothing was uploaded or posted
    assert fx.requests_to("POST", "/1.1/media/upload.json") == [] and fx.posts == []


def test_an_image_larger_than_x_takes_fails_the_post_before_any_upload(rt: Runtime, fx: FakeX) -> None:
    # Given an image of 6 MB (X takes 5 MB for a PNG)
    url = fx.serve_image("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (6 * 1024 * 1024))
    pid = _due(rt, url)
    # When published / Then it fails as too large, and nothing was uploaded
    assert do_publish(rt, pid) == "failed"
    pub = rt.ledger.publication(pid)
    assert pub is not None and "larger than X's limit of 5 MB" in (pub.last_error or "")
    assert fx.requests_to("POST", "/1.1/media/upload.json") == []
