"""WordPress media: with ``upload_media``, an item's images go to the site's media library (alt
text set), the article's images point at the uploaded copies and the first is the featured image;
the site's types and size are checked first; an upload whose answer is lost is found and reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import update

from syndicate import Runtime, submit
from syndicate.ledger.schema import publications
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.fakes.base import Fault
from tests.fakes.images import GIF, JPEG, PNG, WEBP, FakeImageHost
from tests.fakes.wordpress import FakeWordPress, WpUser
from tests.helpers import item_data, simple_route

PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"

pytestmark = pytest.mark.usefixtures("loopback_fetches")


@pytest.fixture
def site() -> Iterator[FakeWordPress]:
    with FakeWordPress({"editor": WpUser(PASSWORD)}) as fake:
        fake.add_term("tags", "testing")  # the tag of tests.helpers.item_data()
        yield fake


@pytest.fixture
def host() -> Iterator[FakeImageHost]:
    with FakeImageHost() as fake:
        yield fake


def make_runtime(config_dir: Callable[..., Path], database_url: str, base_url: str, **options: Any) -> Runtime:
    """An embedded runtime with one WordPress account ``blog`` that uploads media."""
    cfg = config_dir(
        accounts={"blog": {"adapter": "wordpress", "base_url": base_url, "connect_timeout_s": 1, "read_timeout_s": 0.5,
                           "credentials": {"username": "${WP_USER}", "app_password": "${WP_PASS}"},
                           "options": {"upload_media": True, **options}}},
        routes=[simple_route("na", ["en-US"], ["blog"])])
    return Runtime.create(config=cfg, database_url=database_url, redis_url="",
                          environ={"WP_USER": "editor", "WP_PASS": PASSWORD})


def enqueue(rt: Runtime, media: list[dict[str, Any]]) -> int:
    sub = submit(item_data(media=media), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
    return pub.id


def make_due(rt: Runtime, pid: int) -> None:
    """Bring a retrying publication's next attempt to now (instead of waiting out the backoff)."""
    with rt.ledger.begin() as conn:
        conn.execute(update(publications).where(publications.c.id == pid)
                     .values(scheduled_for=rt.ledger.now() - timedelta(seconds=1)))


def uploads(site: FakeWordPress) -> list[Any]:
    return [r for r in site.requests if r.method == "POST" and r.path == "/wp-json/wp/v2/media"]


def test_wordpress_uploads_the_images_sets_alt_text_and_the_featured_image(
    config_dir: Callable[..., Path], ledger_url: str, site: FakeWordPress, host: FakeImageHost
) -> None:
    # Given an item with a PNG (with alt text) and a JPEG served under a misleading type
    png_url = host.serve("chart.png", PNG)
    jpg_url = host.serve("team", JPEG, "image/png")
    with make_runtime(config_dir, ledger_url, site.url) as rt:
        pid = enqueue(rt, [{"url": png_url, "alt": "Pipeline by region"}, {"url": jpg_url, "alt": "The team"}])
        # When published
        assert do_publish(rt, pid) == "published"
        pub = rt.ledger.publication(pid)
    assert pub is not None and pub.remote_id is not None
    # Then both images are in the media library, byte for byte, with their alt text, and the
    # declared type and file name follow the bytes (the JPEG is a .jpg whatever its header said)
    first, second = sorted(site.media.values(), key=lambda m: m["id"])
    assert (first["data"], first["alt_text"], first["mime_type"]) == (PNG, "Pipeline by region", "image/png")
    assert (second["data"], second["alt_text"], second["mime_type"]) == (JPEG, "The team", "image/jpeg")
    assert [r.header("Content-Type") for r in uploads(site)] == ["image/png", "image/jpeg"]
    assert all((r.header("Content-Disposition") or "").startswith('attachment; filename="') for r in uploads(site))
    assert second["source_url"].endswith(".jpg")
    # And the post's featured image is the first, and the article shows the uploaded copies
    post = site.posts[int(pub.remote_id)]
    assert post["featured_media"] == first["id"]
    assert f'<img src="{first["source_url"]}" alt="Pipeline by region">' in post["content"]
    assert f'<img src="{second["source_url"]}" alt="The team">' in post["content"]
    assert png_url not in post["content"] and jpg_url not in post["content"]


def test_wordpress_featured_image_alone_when_the_article_shows_no_images(
    config_dir: Callable[..., Path], ledger_url: str, site: FakeWordPress, host: FakeImageHost
) -> None:
    # Given an account that keeps images out of the article but wants a featured image
    media = [{"url": host.serve("a.gif", GIF, "image/gif"), "alt": "A"}, {"url": host.serve("b.png", PNG), "alt": "B"}]
    with make_runtime(config_dir, ledger_url, site.url, include_media=False) as rt:
        pid = enqueue(rt, media)
        assert do_publish(rt, pid) == "published"
        pub = rt.ledger.publication(pid)
    # Then only the first image is uploaded, as the featured image, and the article has no <img>
    [only] = site.media.values()
    assert only["data"] == GIF and pub is not None
    post = site.posts[int(pub.remote_id or "0")]
    assert post["featured_media"] == only["id"] and "<img" not in post["content"]
    assert host.fetches("b.png") == 0


@pytest.mark.parametrize(("options", "data", "expected"), [
    ({"media_types": ["image/jpeg", "image/png"]}, WEBP, "is a WebP image; this WordPress site takes JPEG, PNG"),
    ({"max_upload_bytes": 2048}, PNG + b"\0" * 4096, "larger than this WordPress site's limit of 2,048 bytes"),
], ids=["type", "size"])
def test_wordpress_refuses_an_image_the_site_does_not_take_before_any_upload(
    config_dir: Callable[..., Path], ledger_url: str, site: FakeWordPress, host: FakeImageHost,
    options: dict[str, Any], data: bytes, expected: str
) -> None:
    url = host.serve("img", data, "image/webp" if data == WEBP else "image/png")
    with make_runtime(config_dir, ledger_url, site.url, **options) as rt:
        pid = enqueue(rt, [{"url": url, "alt": "x"}])
        # When published / Then it fails for good, naming the item, the URL and the site's limit
        assert do_publish(rt, pid) == "failed"
        pub = rt.ledger.publication(pid)
    assert pub is not None and expected in (pub.last_error or "") and url in (pub.last_error or "")
    assert pub.item_id in (pub.last_error or "")
    # And nothing was uploaded or posted
    assert uploads(site) == [] and site.posts == {}


def test_wordpress_upload_whose_answer_is_lost_is_found_and_reused_by_the_retry(
    config_dir: Callable[..., Path], ledger_url: str, site: FakeWordPress, host: FakeImageHost
) -> None:
    # Given the site stores the upload but its answer never arrives
    url = host.serve("chart.png", PNG)
    site.fail_next(Fault("stall", when="after", method="POST", path="^/wp-json/wp/v2/media$", seconds=1.5))
    with make_runtime(config_dir, ledger_url, site.url) as rt:
        pid = enqueue(rt, [{"url": url, "alt": "A chart"}])
        # When published, Then no post can exist: retried, not in doubt
        assert do_publish(rt, pid) == "retrying"
        make_due(rt, pid)
        # When the retry runs
        assert do_publish(rt, pid) == "published"
        pub = rt.ledger.publication(pid)
    # Then it found the orphan by its name and used it: one upload, one attachment, one post
    assert len(uploads(site)) == 1
    [media] = site.media.values()
    assert pub is not None and site.posts[int(pub.remote_id or "0")]["featured_media"] == media["id"]
    assert len(site.posts) == 1 and host.fetches("chart.png") == 1


def test_wordpress_user_without_upload_permission_fails_as_an_auth_error(
    config_dir: Callable[..., Path], ledger_url: str, host: FakeImageHost
) -> None:
    # Given a user who may write posts but not upload files (a Contributor)
    with FakeWordPress({"editor": WpUser(PASSWORD, can_upload=False)}) as site:
        site.add_term("tags", "testing")
        with make_runtime(config_dir, ledger_url, site.url) as rt:
            pid = enqueue(rt, [{"url": host.serve("a.png", PNG), "alt": "A"}])
            # When published / Then it fails naming the upload, and no post was made
            assert do_publish(rt, pid) == "failed"
            pub = rt.ledger.publication(pid)
        assert pub is not None and "the upload of" in (pub.last_error or "") and site.posts == {}


def test_fake_wordpress_media_rules(site: FakeWordPress) -> None:
    # Given the fake site (its rules, checked on their own)
    auth = ("editor", PASSWORD)
    media = f"{site.url}/wp-json/wp/v2/media"
    # Then uploads need a login, a Content-Disposition and bytes of an allowed type matching the name
    assert requests.post(media, data=PNG, timeout=5).json()["code"] == "rest_cannot_create"
    assert requests.post(media, data=PNG, auth=auth, timeout=5).json()["code"] == "rest_upload_no_content_disposition"
    wrong = requests.post(media, data=PNG, auth=auth, timeout=5,
                          headers={"Content-Disposition": 'attachment; filename="a.jpg"'})
    assert wrong.status_code == 500 and wrong.json()["code"] == "rest_upload_sideload_error"
    # And a post's featured_media must exist
    post = requests.post(f"{site.url}/wp-json/wp/v2/posts", auth=auth, timeout=5,
                         json={"title": "t", "status": "draft", "featured_media": 999})
    assert post.status_code == 400 and post.json()["code"] == "rest_invalid_featured_media"
