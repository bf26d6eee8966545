"""LinkedIn image posts: images fetched once per item revision, uploaded through the Images API,
referenced with their alt text; type and size checked first; upload faults never duplicate a post.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from syndicate import Runtime, submit
from syndicate.ledger.schema import publications
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish, do_reconcile
from tests.fakes.base import Fault
from tests.fakes.images import GIF, HTML, JPEG, PNG, WEBP, FakeImageHost
from tests.fakes.linkedin import FakeLinkedIn, TokenGrant, visible_text
from tests.helpers import item_data, simple_route

TOKEN = "AQV-li-test-token-images-77"
AUTHOR = "urn:li:organization:2414183"

pytestmark = pytest.mark.usefixtures("loopback_fetches")


@pytest.fixture
def linkedin() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn({TOKEN: TokenGrant({AUTHOR})}) as fake:
        yield fake


@pytest.fixture
def host() -> Iterator[FakeImageHost]:
    with FakeImageHost() as fake:
        yield fake


def make_runtime(config_dir: Callable[..., Path], database_url: str, base_url: str, *,
                 accounts: tuple[str, ...] = ("li",), **options: Any) -> Runtime:
    """An embedded runtime whose route posts to LinkedIn accounts ``accounts`` (image posts)."""
    cfg = config_dir(
        accounts={a: {"adapter": "linkedin", "base_url": base_url, "connect_timeout_s": 1, "read_timeout_s": 0.5,
                      "credentials": {"access_token": "${LI_TOKEN}"},
                      "options": {"author": AUTHOR, "share_as": "image", **options}} for a in accounts},
        routes=[simple_route("na", ["en-US"], list(accounts))])
    return Runtime.create(config=cfg, database_url=database_url, redis_url="", environ={"LI_TOKEN": TOKEN})


def enqueue(rt: Runtime, media: list[dict[str, Any]]) -> list[int]:
    """Submit an item with ``media``; bring its publications to ``enqueued``; their ids."""
    sub = submit(item_data(media=media), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    return [p.id for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")]


def make_due(rt: Runtime, pid: int) -> None:
    """Bring a retrying publication's next attempt to now (instead of waiting out the backoff)."""
    with rt.ledger.begin() as conn:
        conn.execute(update(publications).where(publications.c.id == pid)
                     .values(scheduled_for=rt.ledger.now() - timedelta(seconds=1)))


def test_linkedin_image_post_uploads_the_image_and_references_it_with_its_alt_text(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, host: FakeImageHost
) -> None:
    # Given a LinkedIn account making image posts and an item with one PNG with alt text
    url = host.serve("chart.png", PNG)
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        [pid] = enqueue(rt, [{"url": url, "alt": "Pipeline by region, Q3"}])
        # When published
        assert do_publish(rt, pid) == "published"
        pub = rt.ledger.publication(pid)
    # Then the image was uploaded with PUT, byte for byte, owned by the author
    [image] = linkedin.images.values()
    assert image.owner == AUTHOR and image.data == PNG and image.status == "AVAILABLE"
    assert [r.method for r in linkedin.requests if r.path.startswith("/dms-uploads/")] == ["PUT"]
    # And the post references it with the alt text, and keeps the tagged link in the commentary
    [post] = linkedin.created()
    assert post["content"] == {"media": {"id": image.urn, "altText": "Pipeline by region, Q3"}}
    assert pub is not None and pub.state == "published" and pub.remote_id == post["id"]
    assert pub.tagged_url is not None and pub.tagged_url in visible_text(post["commentary"])


def test_linkedin_image_post_with_several_images_is_a_multi_image_post(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, host: FakeImageHost
) -> None:
    # Given an item with a JPEG and a GIF (the second without alt text)
    media = [{"url": host.serve("a.jpg", JPEG, "image/jpeg"), "alt": "The team"},
             {"url": host.serve("b.gif", GIF, "image/gif")}]
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        [pid] = enqueue(rt, media)
        # When published
        assert do_publish(rt, pid) == "published"
    # Then both were uploaded and the post lists them in order, alt text where there is one
    [post] = linkedin.created()
    images = post["content"]["multiImage"]["images"]
    assert [linkedin.images[i["id"]].data for i in images] == [JPEG, GIF]
    assert [i.get("altText") for i in images] == ["The team", None]


def test_linkedin_fetches_an_image_once_for_every_account_of_the_item_revision(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, host: FakeImageHost
) -> None:
    # Given two LinkedIn accounts on one route and an item with one image
    url = host.serve("shared.png", PNG)
    with make_runtime(config_dir, sqlite_url, linkedin.url, accounts=("li", "li-two")) as rt:
        pids = enqueue(rt, [{"url": url, "alt": "A chart"}])
        # When both publications go out
        assert [do_publish(rt, pid) for pid in pids] == ["published", "published"]
    # Then each uploaded the image, but it was fetched from its host once
    assert len(linkedin.images) == 2 and all(i.data == PNG for i in linkedin.images.values())
    assert host.fetches("shared.png") == 1


@pytest.mark.parametrize(("data", "content_type", "expected"), [
    (WEBP, "image/webp", "is a WebP image; LinkedIn takes GIF, JPEG, PNG"),
    (HTML, "image/png", "its bytes are not a JPEG, PNG, GIF or WebP image (the server called it image/png)"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "image/png", "larger than LinkedIn's limit of 5 MB for PNG"),
], ids=["webp", "html-labelled-png", "too-large"])
def test_linkedin_refuses_an_image_it_does_not_take_before_any_upload(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, host: FakeImageHost,
    data: bytes, content_type: str, expected: str
) -> None:
    # Given an item whose image LinkedIn does not take (by its bytes, not its label)
    url = host.serve("img", data, content_type)
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        [pid] = enqueue(rt, [{"url": url, "alt": "x"}])
        # When published / Then it fails for good, naming the item, the URL and the reason
        assert do_publish(rt, pid) == "failed"
        pub = rt.ledger.publication(pid)
    assert pub is not None and url in (pub.last_error or "") and pub.item_id in (pub.last_error or "")
    assert expected in (pub.last_error or "")
    # And nothing reached LinkedIn
    assert linkedin.requests == [] and linkedin.created() == []


@pytest.mark.parametrize(("status", "outcome"), [(404, "failed"), (410, "failed"), (503, "retrying")])
def test_linkedin_image_fetch_failure_is_permanent_for_4xx_and_transient_for_5xx(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, host: FakeImageHost,
    status: int, outcome: str
) -> None:
    # Given the image's host answers with an error
    url = host.serve("gone.png", PNG)
    host.fail_next(Fault("status", method="GET", path="/img/gone.png", status=status))
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        [pid] = enqueue(rt, [{"url": url, "alt": "x"}])
        # When published
        assert do_publish(rt, pid) == outcome
        pub = rt.ledger.publication(pid)
    # Then the reason names the item and the URL and the status; nothing was sent to LinkedIn
    assert pub is not None and pub.last_error == (
        f"cannot fetch media {url} of item {pub.item_id} (revision 1): the server answered HTTP {status}")
    assert linkedin.requests == []


def test_linkedin_upload_whose_answer_is_lost_is_reused_by_the_retry(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, host: FakeImageHost
) -> None:
    # Given LinkedIn stores the uploaded bytes but the answer to the PUT never arrives
    url = host.serve("chart.png", PNG)
    linkedin.fail_next(Fault("stall", when="after", method="PUT", path="^/dms-uploads/", seconds=1.5))
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        [pid] = enqueue(rt, [{"url": url, "alt": "A chart"}])
        # When published, Then no post can exist yet: retried, not in doubt
        assert do_publish(rt, pid) == "retrying"
        # When the retry runs
        make_due(rt, pid)
        assert do_publish(rt, pid) == "published"
    # Then it asked LinkedIn about the uploaded image and reused it: one image, one upload, one post
    [image] = linkedin.images.values()
    assert image.uploads == 1
    assert sum(1 for r in linkedin.requests if r.path == "/rest/images" and r.method == "POST") == 1
    [post] = linkedin.created()
    assert post["content"]["media"]["id"] == image.urn
    # And the image was fetched once
    assert host.fetches("chart.png") == 1


def test_linkedin_upload_that_never_arrived_is_left_as_a_harmless_orphan(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, host: FakeImageHost
) -> None:
    # Given the PUT is refused by a gateway before LinkedIn stores anything
    url = host.serve("chart.png", PNG)
    linkedin.fail_next(Fault("status", method="PUT", path="^/dms-uploads/", status=502))
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        [pid] = enqueue(rt, [{"url": url, "alt": "A chart"}])
        assert do_publish(rt, pid) == "retrying"
        make_due(rt, pid)
        # When the retry runs, Then the first image is still waiting for bytes: a new one is made
        assert do_publish(rt, pid) == "published"
    statuses = sorted(i.status for i in linkedin.images.values())
    assert statuses == ["AVAILABLE", "WAITING_UPLOAD"]
    [post] = linkedin.created()
    assert linkedin.images[post["content"]["media"]["id"]].status == "AVAILABLE"


def test_linkedin_image_post_lost_after_create_is_reconciled_to_exactly_one_post(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, host: FakeImageHost
) -> None:
    # Given LinkedIn makes the image post but its answer is lost
    url = host.serve("chart.png", PNG)
    linkedin.fail_next(Fault("close", when="after", method="POST", path="^/rest/posts$"))
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        [pid] = enqueue(rt, [{"url": url, "alt": "A chart"}])
        # When published, Then it is in doubt; When reconciled, Then the post is found by its link
        assert do_publish(rt, pid) == "in_doubt"
        assert do_reconcile(rt, pid) == "published"
        pub = rt.ledger.publication(pid)
    [post] = linkedin.created()
    assert pub is not None and pub.remote_id == post["id"] and len(linkedin.images) == 1


def test_fake_linkedin_refuses_a_post_referencing_an_image_not_uploaded(linkedin: FakeLinkedIn) -> None:
    # Given an image initialized but never uploaded (the fake's rule, checked on its own)
    import requests

    headers = {"Authorization": f"Bearer {TOKEN}", "LinkedIn-Version": "202610", "X-Restli-Protocol-Version": "2.0.0"}
    init = requests.post(f"{linkedin.url}/rest/images?action=initializeUpload", headers=headers, timeout=5,
                         json={"initializeUploadRequest": {"owner": AUTHOR}}).json()["value"]
    post = {"author": AUTHOR, "commentary": "x", "visibility": "PUBLIC", "lifecycleState": "PUBLISHED",
            "distribution": {"feedDistribution": "MAIN_FEED"}, "content": {"media": {"id": init["image"]}}}
    # When a post references it, Then it is refused; POST to the upload URL is refused too
    refused = requests.post(f"{linkedin.url}/rest/posts", headers=headers, json=post, timeout=5)
    assert refused.status_code == 422 and "WAITING_UPLOAD" in refused.json()["message"]
    upload_path = init["uploadUrl"].split("/", 3)[3]
    assert requests.post(f"{linkedin.url}/{upload_path}", data=PNG, headers=headers, timeout=5).status_code == 405
    # And alt text longer than 4,086 characters is refused once the image is there
    assert requests.put(f"{linkedin.url}/{upload_path}", data=PNG, headers=headers, timeout=5).status_code == 201
    post["content"] = {"media": {"id": init["image"], "altText": "a" * 4087}}
    too_long = requests.post(f"{linkedin.url}/rest/posts", headers=headers, json=post, timeout=5)
    assert too_long.status_code == 422 and "altText" in too_long.json()["message"]


def test_linkedin_article_share_stays_the_default_and_sends_no_image(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, host: FakeImageHost
) -> None:
    # Given an account with the default share_as (article) and an item with an image
    url = host.serve("chart.png", PNG)
    with make_runtime(config_dir, sqlite_url, linkedin.url, share_as="article") as rt:
        [pid] = enqueue(rt, [{"url": url, "alt": "A chart"}])
        assert do_publish(rt, pid) == "published"
    # Then the post is a link share, nothing was fetched or uploaded
    [post] = linkedin.created()
    assert "article" in post["content"] and linkedin.images == {} and host.fetches("chart.png") == 0
