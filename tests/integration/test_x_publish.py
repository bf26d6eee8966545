"""Publishing to X through the real pipeline, over real HTTP to the fake: the exact requests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import tweepy
import yaml

from adapters.twitter_text import weighted_length
from syndicate import Runtime, submit
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.fakes.x import FakeX, x_account, x_environ
from tests.helpers import REPO, item_data, simple_route

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

#: The fake X serves the items' images on loopback: open loopback to media fetches for these tests.
pytestmark = pytest.mark.usefixtures("loopback_fetches")


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


RuntimeFactory = Callable[..., Runtime]


@pytest.fixture
def make_rt(config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> Iterator[RuntimeFactory]:
    with ExitStack() as made:

        def make(*, env: dict[str, str] | None = None, **account: Any) -> Runtime:
            cfg = config_dir(accounts={"x-na": x_account(fx, **account)},
                             routes=[simple_route("na", ["en-US"], ["x-na"])])
            return made.enter_context(Runtime.create(config=cfg, database_url=sqlite_url, redis_url="",
                                                     environ=env or x_environ(fx)))

        yield make


def due(rt: Runtime, item: dict[str, Any]) -> list[int]:
    """Submit ``item``, localize it, and take its due publications (ids, in order)."""
    sub = submit(item, runtime=rt, ignore_schedule=True)
    for locale in rt.ledger.mark_localizations_requested(sub.item_id, sub.revision):
        do_localize(rt, sub.item_id, sub.revision, locale)
    return [p.id for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=50, actor="test")]


def example_items(fx: FakeX) -> dict[str, dict[str, Any]]:
    """The example items, with the product launch's image served by the fake site."""
    items = {}
    for path in sorted((REPO / "examples" / "content").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for m in data.get("media", []):
            m["url"] = fx.serve_image(Path(m["url"]).name, PNG)
        items[data["id"]] = data
    return items


def _oauth_params(header: str) -> dict[str, str]:
    from oauthlib.oauth1.rfc5849 import utils

    return {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}


def test_x_publishes_the_example_items_with_exact_signed_requests(make_rt: RuntimeFactory, fx: FakeX) -> None:
    # Given the three example items, an X account (OAuth 1.0a) pointed at the fake, media on
    rt = make_rt()
    items = example_items(fx)
    # When each item's due publications go through the pipeline
    published = {}
    for item_id, data in items.items():
        for pid in due(rt, data):
            assert do_publish(rt, pid) == "published"
            published[item_id] = rt.ledger.publication(pid)
    # Then each item was posted once (evergreen reposts are not due yet)
    assert sorted(published) == sorted(items) and len(fx.posts) == 3
    creates = fx.requests_to("POST", "/2/tweets")
    assert len(creates) == 3
    for req in creates:
        # And every create is POST https://api.twitter.com/2/tweets, JSON, signed for the fake's keys
        assert req.query == {} and req.header("Content-Type") == "application/json"
        assert (req.header("User-Agent") or "").endswith(f"Tweepy/{tweepy.__version__}")
        oauth = _oauth_params(req.header("Authorization") or "")
        assert oauth["oauth_consumer_key"] == FakeX.consumer_key and oauth["oauth_token"] == FakeX.access_token
        assert oauth["oauth_signature_method"] == "HMAC-SHA1" and oauth["oauth_version"] == "1.0"
        assert fx.verify_oauth1(req)
    bodies = {p.item_id: json.loads(r.body) for p, r in zip(
        sorted(published.values(), key=lambda p: p.published_at), creates, strict=True)}
    # And the webinar's hand-written X text goes out as written, with the call to action and tagged link
    webinar = published["webinar-2026-12-attribution"]
    assert bodies["webinar-2026-12-attribution"] == {"text": (
        "Live on Dec 10: how multi-region B2B teams trace pipeline to every post, partner and language. "
        "45 minutes + Q&A. #B2BMarketing\n\nSave your seat " + webinar.tagged_url)}
    assert webinar.tagged_url.startswith("https://example.com/events/webinar-attribution-2026?utm_source=x&"
                                         "utm_medium=social&utm_campaign=webinar-2026-12&utm_content=")
    # And the case study fits whole, with the one hashtag there is room for
    case = published["case-study-northwind"]
    assert bodies["case-study-northwind"] == {"text": (
        "How Northwind doubled partner-sourced pipeline in two quarters\n\n"
        "Northwind's field marketing team publishes every approved story in six languages to twelve channels. "
        "Here is how they did it, and what it did for pipeline.\n\nRead the case study " + case.tagged_url
        + "\n#CaseStudy")}
    # And the launch is cut after its first sentence, with its image attached
    launch = published["launch-2026-analytics"]
    [media_id] = list(fx.media)
    assert bodies["launch-2026-analytics"] == {"media": {"media_ids": [media_id]}, "text": (
        "Introducing Syndicate Analytics: every lead, traced to the post that brought it\n\n"
        "Syndicate Analytics joins your posts on X, LinkedIn and partner communities to the leads they bring."
        "\n\nRead the announcement " + launch.tagged_url + "\n#MarketingAnalytics #LeadAttribution")}
    # And what went out is what the ledger recorded, within 280 weighted characters
    for pub in published.values():
        assert pub.rendered is not None and weighted_length(pub.rendered["text"]) <= 280
        assert bodies[pub.item_id]["text"] == pub.rendered["text"]
        assert pub.permalink == f"https://x.com/example/status/{pub.remote_id}"
    # And the username was asked once (then kept in the account's state)
    assert len(fx.requests_to("GET", "/2/users/me")) == 1


def test_x_uploads_images_with_their_alt_text_before_the_post(make_rt: RuntimeFactory, fx: FakeX) -> None:
    # Given an item with an image and its alt text, on an OAuth 1.0a account
    rt = make_rt(username="example")
    url = fx.serve_image("chart.png", PNG)
    [pid] = due(rt, item_data(media=[{"url": url, "alt": "A bar chart of leads per region"}]))
    # When published
    assert do_publish(rt, pid) == "published"
    # Then the image went to upload.twitter.com's v1.1 endpoint (multipart, signed), then its alt text
    [upload] = fx.requests_to("POST", "/1.1/media/upload.json")
    [meta] = fx.requests_to("POST", "/1.1/media/metadata/create.json")
    assert (upload.header("Content-Type") or "").startswith("multipart/form-data") and fx.verify_oauth1(upload)
    assert fx.verify_oauth1(meta)
    [(media_id, stored)] = fx.media.items()
    assert stored["bytes"] == PNG and stored["alt"] == "A bar chart of leads per region"
    assert json.loads(meta.body) == {"media_id": media_id, "alt_text": {"text": "A bar chart of leads per region"}}
    # And the post carries the media id
    [create] = fx.requests_to("POST", "/2/tweets")
    assert json.loads(create.body)["media"] == {"media_ids": [media_id]}
    assert fx.posts[0].media_ids == [media_id]


def test_x_with_oauth2_posts_without_media_and_says_so(make_rt: RuntimeFactory, fx: FakeX) -> None:
    # Given an OAuth 2 account (media upload needs OAuth 1.0a) and an item with an image
    access, refresh = fx.issue_tokens()
    rt = make_rt(auth="oauth2", with_access_token=True, username="example",
                 env=x_environ(fx, access_token=access, refresh_token=refresh))
    [pid] = due(rt, item_data(media=[{"url": fx.serve_image("a.png", PNG), "alt": "alt"}]))
    # When published
    assert do_publish(rt, pid) == "published"
    # Then nothing was uploaded, the post went with the bearer token, and the warning is recorded
    assert fx.requests_to("POST", "/1.1/media/upload.json") == []
    [create] = fx.requests_to("POST", "/2/tweets")
    assert create.header("Authorization") == f"Bearer {access}" and "media" not in json.loads(create.body)
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.rendered is not None
    assert any("OAuth 1.0a" in w for w in pub.rendered["warnings"])


def test_x_thread_posts_numbered_replies_with_the_link_in_the_last_part(make_rt: RuntimeFactory, fx: FakeX) -> None:
    # Given a thread-mode account with the link last and an item whose text needs three posts
    rt = make_rt(username="example", thread=True, link_position="last", hashtag_style="none")
    summary = " ".join(f"Point {i}: regional teams publish once and attribute every lead." for i in range(9))
    [pid] = due(rt, item_data(summary=summary))
    # When published
    assert do_publish(rt, pid) == "published"
    # Then each part is a reply to the one before, numbered, within 280, the link only in the last
    creates = [json.loads(r.body) for r in fx.requests_to("POST", "/2/tweets")]
    n = len(creates)
    pub = rt.ledger.publication(pid)
    assert pub is not None and n >= 3
    assert "reply" not in creates[0]
    ids = [p.id for p in fx.posts]
    for i, body in enumerate(creates[1:], start=1):
        assert body["reply"] == {"in_reply_to_tweet_id": ids[i - 1]}
    for i, body in enumerate(creates, start=1):
        assert body["text"].endswith(f" {i}/{n}") and weighted_length(body["text"]) <= 280
        assert (pub.tagged_url in body["text"]) == (i == n)
    # And the back-link is the thread's first post
    assert pub.remote_id == ids[0] and pub.permalink == f"https://x.com/example/status/{ids[0]}"
    assert pub.rendered is not None and pub.rendered["parts"] == [b["text"] for b in creates]


def test_x_metrics_are_read_from_the_posts_public_metrics(make_rt: RuntimeFactory, fx: FakeX) -> None:
    # Given a published post that people liked and reposted
    rt = make_rt(username="example")
    [pid] = due(rt, item_data())
    assert do_publish(rt, pid) == "published"
    fx.posts[0].metrics.update(like_count=7, retweet_count=2, impression_count=311)
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.remote_id is not None
    # When its metrics are fetched / Then they are X's public metrics under our names
    from syndicate.publishing.content import publication_ref

    metrics = rt.adapter("x-na").fetch_metrics(pub.remote_id, publication_ref(rt, pub))
    assert metrics == {"likes": 7, "reposts": 2, "replies": 0, "quotes": 0, "bookmarks": 0, "impressions": 311}
    [read] = fx.requests_to("GET", f"/2/tweets/{pub.remote_id}")
    assert read.query == {"tweet.fields": ["public_metrics"]} and fx.verify_oauth1(read)
