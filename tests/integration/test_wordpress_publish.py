"""WordPress end to end: the example items through the real pipeline to a loopback WordPress site.

Success runs the embedded worker (threads, dispatcher, reconcile actor); error paths step the same
pipeline functions one at a time (claim → call → record, then reconcile) so each outcome is exact.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import Runtime, submit
from syndicate.localization.step import do_localize
from syndicate.model.item import load_item_file
from syndicate.publishing.steps import do_publish, do_reconcile
from syndicate.worker.host import run_until_settled
from tests.fakes.base import Fault
from tests.fakes.wordpress import FakeWordPress, WpUser
from tests.helpers import REPO, item_data, simple_route

PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
BASIC = "Basic " + base64.b64encode(f"editor:{PASSWORD}".encode()).decode()
YOAST = "_yoast_wpseo_canonical"
EXAMPLES = REPO / "examples" / "content"


@pytest.fixture
def site() -> Iterator[FakeWordPress]:
    with FakeWordPress({"editor": WpUser(PASSWORD)}, registered_meta=(YOAST,)) as fake:
        fake.add_term("tags", "testing")  # the tag of tests.helpers.item_data()
        yield fake


def make_runtime(config_dir: Callable[..., Path], database_url: str, base_url: str, *,
                 locales: tuple[str, ...] = ("en-US",), translation: dict[str, Any] | None = None,
                 password: str = PASSWORD, read_timeout_s: float = 5.0, **options: Any) -> Runtime:
    """An embedded runtime with one WordPress account ``blog`` at ``base_url``. The read timeout is
    generous (a loaded test machine can take over a second to answer); tests of a stalled answer
    pass a short one."""
    route = simple_route("na", list(locales), ["blog"])
    if translation:
        route["translation"] = translation
    cfg = config_dir(
        accounts={"blog": {"adapter": "wordpress", "base_url": base_url, "connect_timeout_s": 1,
                           "read_timeout_s": read_timeout_s,
                           "credentials": {"username": "${WP_USER}", "app_password": "${WP_PASS}"},
                           "options": options}},
        routes=[route])
    return Runtime.create(config=cfg, database_url=database_url, redis_url="",
                          environ={"WP_USER": "editor", "WP_PASS": password})


def enqueue(rt: Runtime, data: dict[str, Any] | None = None) -> int:
    """Submit an item and bring its one en-US publication to ``enqueued``; returns its id."""
    sub = submit(data or item_data(), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
    return pub.id


def post_creates(site: FakeWordPress) -> list[dict[str, Any]]:
    return [r.json() for r in site.requests if r.method == "POST" and r.path.endswith("/wp/v2/posts")]


def rel(href: str, text: str) -> str:
    return f'<a href="{href}" rel="noopener noreferrer">{text}</a>'


def tagged(url: str, campaign: str, item: str, *, keep: str = "") -> str:
    """``url`` with the UTM parameters of the ``blog`` account, HTML-escaped as in an href."""
    query = (f"utm_source=wordpress&amp;utm_medium=referral&amp;utm_campaign={campaign}"
             f"&amp;utm_content={item}.r1.en-US.blog.0")
    return f"{url}?{keep}&amp;{query}" if keep else f"{url}?{query}"


WEBINAR = {
    "title": "Webinar, Dec 10: Attribution for multi-region B2B marketing",
    "content": (
        "<p>Register for the live session on December 10. We will show how regional teams use UTM\n"
        "conventions, back-links and one ledger of every post to report pipeline by channel.</p>\n"
        "<p>" + rel(tagged("https://example.com/events/webinar-attribution-2026/register", "webinar-2026-12",
                           "webinar-2026-12-attribution"), "Save your seat") + "</p>\n"
        "<p>Originally published at " + rel(tagged("https://example.com/events/webinar-attribution-2026",
                                                   "webinar-2026-12", "webinar-2026-12-attribution"),
                                            "https://example.com/events/webinar-attribution-2026") + ".</p>"),
    "excerpt": "Join our product team for 45 minutes on tracing pipeline back to the posts, partners and languages "
               "that created it. Live Q&amp;A included.",
    "status": "publish",
    "tags": ["webinar", "attribution"],
    "meta": {YOAST: "https://example.com/events/webinar-attribution-2026"},
    "slug_base": "webinar-dec-10-attribution-for-multi-region-b2b-marketing",
}
LAUNCH = {
    "title": "Introducing Syndicate Analytics: every lead, traced to the post that brought it",
    "content": (
        '<figure><img src="https://example.com/media/analytics-dashboard.png" alt="The Syndicate Analytics '
        'dashboard showing leads per channel and region"></figure>\n'
        "<h2>Every post, measured</h2>\n"
        "<p>Syndicate Analytics reads the UTM parameters on every link we publish and joins them to your\n"
        "CRM. No more guessing which post brought the lead: see it per region, locale and channel.</p>\n"
        # a bare link to the canonical host in the body is tagged too
        "<p>Questions? Ask @example_support or read "
        + tagged("https://example.com/docs/analytics", "analytics-launch-2026", "launch-2026-analytics") + ".</p>\n"
        "<p>" + rel(tagged("https://example.com/blog/introducing-analytics", "analytics-launch-2026",
                           "launch-2026-analytics"), "Read the announcement") + "</p>\n"
        "<p>Originally published at " + rel(tagged("https://example.com/blog/introducing-analytics",
                                                   "analytics-launch-2026", "launch-2026-analytics",
                                                   keep="ref=launch") + "#top",
                                            "https://example.com/blog/introducing-analytics?ref=launch#top")
        + ".</p>"),
    "excerpt": "Syndicate Analytics joins your posts on X, LinkedIn and partner communities to the leads they bring. "
               "See which region, language and channel drive pipeline, and double down on what works.",
    "status": "publish",
    "tags": ["marketing analytics", "lead attribution", "B2B"],
    "meta": {YOAST: "https://example.com/blog/introducing-analytics?ref=launch#top"},
    "slug_base": "introducing-syndicate-analytics-every-lead-traced-to-the",
}
CASE = {
    "title": "How Northwind doubled partner-sourced pipeline in two quarters",
    "content": (
        "<p>Northwind sells industrial sensors in 14 countries. Before, each region copied posts by hand.\n"
        "Now one approved story goes everywhere, tagged, and every lead is attributed.</p>\n"
        "<p>" + rel(tagged("https://example.com/customers/northwind", "customer-stories", "case-study-northwind"),
                    "Read the case study") + "</p>\n"
        "<p>Originally published at " + rel(tagged("https://example.com/customers/northwind", "customer-stories",
                                                   "case-study-northwind"),
                                            "https://example.com/customers/northwind") + ".</p>"),
    "excerpt": "Northwind's field marketing team publishes every approved story in six languages to twelve channels. "
               "Here is how they did it, and what it did for pipeline.",
    "status": "publish",
    "tags": ["case study", "partner marketing"],
    "meta": {YOAST: "https://example.com/customers/northwind"},
    "slug_base": "how-northwind-doubled-partner-sourced-pipeline-in-two",
}


def test_wordpress_publishes_the_example_items_with_the_exact_requests(
    config_dir: Callable[..., Path], ledger_url: str, site: FakeWordPress
) -> None:
    # Given a blog account that files posts under "Marketing" (which exists) and creates missing tags
    marketing = site.add_term("categories", "Marketing")
    site.add_term("categories", "Marketing Ops")  # a near miss that the search also returns
    with make_runtime(config_dir, ledger_url, site.url, categories=["Marketing"], create_terms=True,
                      canonical_meta_key=YOAST) as rt:
        for path in sorted(EXAMPLES.glob("*.yaml")):
            submit(load_item_file(path), runtime=rt, ignore_schedule=True)
        # When the embedded worker runs until everything due has settled
        pubs = run_until_settled(rt, lambda: rt.ledger.publications(account="blog"), threads=2,
                                 timeout=timedelta(seconds=60))
    # Then each example is one post, sent exactly as documented
    published = [p for p in pubs if p.state == "published"]
    assert len(published) == 3 and sorted(p.state for p in pubs) == ["published"] * 3 + ["scheduled"] * 2
    for req in site.requests:
        assert req.header("Authorization") == BASIC
        assert req.path.startswith("/wp-json/wp/v2/")
    creates = {body["title"]: body for body in post_creates(site)}
    assert len(creates) == 3
    for expected in (WEBINAR, LAUNCH, CASE):
        sent = creates[str(expected["title"])]
        pub = next(p for p in published if p.remote_id and site.posts[int(p.remote_id)]["title"] == expected["title"])
        assert sent == {
            "title": expected["title"], "content": expected["content"], "excerpt": expected["excerpt"],
            "status": "publish", "categories": [marketing], "tags": sent["tags"], "meta": expected["meta"],
            "slug": f"{expected['slug_base']}-{pub.marker}",
        }
        # tags were given by name and resolved (created here) to ids
        assert site.term_names("tags", sent["tags"]) == expected["tags"]
        # and the ledger holds the post id and its link
        post = site.posts[int(pub.remote_id or "0")]
        assert pub.permalink == f"{site.url}/{post['date_gmt'][:10].replace('-', '/')}/{post['slug']}/"
        assert pub.rendered is not None and pub.rendered["text"] == sent["content"]
    # every tag was created once, even with two worker threads resolving terms
    assert sorted(t["name"] for t in site.terms["tags"].values()) == sorted(
        ["testing", "webinar", "attribution", "marketing analytics", "lead attribution", "B2B", "case study",
         "partner marketing"])


def test_wordpress_new_revision_updates_the_post_in_place(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given revision 1 of an item was published as a post
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        first = enqueue(rt)
        assert do_publish(rt, first) == "published"
        # When revision 2 (a corrected title and body) is published
        second = enqueue(rt, item_data(revision=2, title="A better title", body="Corrected body."))
        assert do_publish(rt, second) == "published"
        one = rt.ledger.publication(first)
        two = rt.ledger.publication(second)
    # Then the same post was updated (POST /wp/v2/posts/{id}, no new slug): one post on the site
    assert one is not None and two is not None and one.remote_id == two.remote_id
    [post] = site.posts.values()
    assert post["title"] == "A better title" and post["content"].startswith("<p>Corrected body.</p>")
    update = site.requests[-1]
    assert update.method == "POST" and update.path == f"/wp-json/wp/v2/posts/{one.remote_id}"
    assert "slug" not in update.json() and post["slug"].endswith(one.marker)
    assert two.permalink == one.permalink


def test_wordpress_item_due_in_the_future_is_scheduled_on_the_site(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given an item whose publication time is days ahead, sent now (the site publishes it then)
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pid = enqueue(rt, item_data(publish_at="2030-05-04T09:30:00+02:00"))
        assert do_publish(rt, pid) == "published"
        pub = rt.ledger.publication(pid)
    # Then WordPress got status future with the time in GMT, and holds it as scheduled
    [sent] = post_creates(site)
    assert sent["status"] == "future" and sent["date_gmt"] == "2030-05-04T07:30:00"
    [post] = site.posts.values()
    assert post["status"] == "future" and pub is not None and pub.permalink == f"{site.url}/?p={post['id']}"


def test_wordpress_draft_option_leaves_the_post_for_an_editor(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    with make_runtime(config_dir, sqlite_url, site.url, status="draft") as rt:
        pid = enqueue(rt, item_data(publish_at="2030-05-04T09:30:00+02:00"))
        assert do_publish(rt, pid) == "published"
    [sent] = post_creates(site)
    assert sent["status"] == "draft" and "date_gmt" not in sent


def test_wordpress_without_pretty_permalinks_falls_back_to_rest_route_and_remembers_it(
    config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    # Given a site with plain permalinks (/wp-json/ is the web server's 404 page)
    with FakeWordPress({"editor": WpUser(PASSWORD)}, pretty_permalinks=False) as plain:
        plain.add_term("categories", "News")
        with make_runtime(config_dir, sqlite_url, plain.url, categories=["News"], tags_from_item=False) as rt:
            # When two items are published
            first = enqueue(rt, item_data(id="one"))
            assert do_publish(rt, first) == "published"
            with Runtime.create(config=rt.config, database_url=sqlite_url, redis_url="") as rt2:
                second = enqueue(rt, item_data(id="two"))
                assert do_publish(rt2, second) == "published"
                stored = rt.ledger.kv_get("acct:blog", f"rest_route:{plain.url}")
        # Then the first call found /wp-json/ missing and used ?rest_route=, and every later call
        # (the other worker's too) went straight to ?rest_route=
        paths = [(r.method, r.path, r.query.get("rest_route", [""])[0]) for r in plain.requests]
        assert paths == [
            ("GET", "/wp-json/wp/v2/categories", ""), ("GET", "/", "/wp/v2/categories"), ("POST", "/", "/wp/v2/posts"),
            ("GET", "/", "/wp/v2/categories"), ("POST", "/", "/wp/v2/posts"),
        ]
        assert stored is not None and stored[0] is True
        assert len(plain.posts) == 2
        assert all(p["categories"] for p in plain.posts.values())


def test_wordpress_finds_terms_with_html_escaped_names(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given a tag "Q&A" that WordPress stores as "Q&amp;A", and an item tagged "q&a"
    qa = site.add_term("tags", "Q&A")
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pid = enqueue(rt, item_data(tags=["q&a"]))
        assert do_publish(rt, pid) == "published"
    # Then the existing tag is used (exact name, case-insensitively), none created
    [sent] = post_creates(site)
    assert sent["tags"] == [qa] and len(site.terms["tags"]) == 2


def test_wordpress_term_created_meanwhile_by_another_worker_is_used(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given the tag exists, but the search answered before it was made (a race with another worker)
    [existing] = site.terms["tags"]
    site.fail_next(Fault("status", method="GET", path="/wp/v2/tags$", status=200, body=[]))
    with make_runtime(config_dir, sqlite_url, site.url, create_terms=True) as rt:
        pid = enqueue(rt)
        # When publishing, Then creating it answers term_exists with its id, and that id is used
        assert do_publish(rt, pid) == "published"
    [sent] = post_creates(site)
    assert sent["tags"] == [existing] and len(site.terms["tags"]) == 1


def test_wordpress_missing_category_fails_naming_it(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    with make_runtime(config_dir, sqlite_url, site.url, categories=["Product News"], tags_from_item=False) as rt:
        pid = enqueue(rt)
        assert do_publish(rt, pid) == "failed"
        pub = rt.ledger.publication(pid)
    assert pub is not None and "categories term 'Product News' does not exist" in (pub.last_error or "")
    assert site.posts == {}


def test_wordpress_per_locale_site_with_polylang_language(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given German posts go to their own site, which takes Polylang's "lang" field
    with FakeWordPress({"editor": WpUser(PASSWORD)}, languages=("de", "en")) as german:
        with make_runtime(config_dir, sqlite_url, site.url, locales=("en-US", "de-DE"),
                          translation={"engine": "pseudo"}, sites={"de-DE": german.url}, language_param="lang",
                          tags_from_item=False) as rt:
            submit(item_data(), runtime=rt, ignore_schedule=True)
            pubs = run_until_settled(rt, lambda: rt.ledger.publications(account="blog"), threads=2,
                                     timeout=timedelta(seconds=60))
        # Then each locale's post went to its site, with its language
        assert sorted(p.state for p in pubs) == ["published", "published"]
        [de] = german.posts.values()
        [en] = site.posts.values()
        assert de["lang"] == "de" and de["title"].startswith("[")
        assert post_creates(site)[0]["lang"] == "en" and "lang" not in en  # the English site has no Polylang
        assert {p.locale: p.permalink.startswith(german.url) for p in pubs if p.permalink} == {
            "de-DE": True, "en-US": False}


# -- error answers land in the right ledger state, with WordPress's message ------------------------


def test_wordpress_wrong_application_password_fails_and_holds_the_account(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    with make_runtime(config_dir, sqlite_url, site.url, password="wrong pass word 0000") as rt:
        pid = enqueue(rt)
        assert do_publish(rt, pid) == "failed"
        pub = rt.ledger.publication(pid)
        status = rt.ledger.account_status("blog")
    assert pub is not None and status[0] == "needs_credentials"
    assert "HTTP 401" in (pub.last_error or "")
    assert "incorrect_password: The provided password is an invalid application password." in (pub.last_error or "")
    assert "wrong pass word" not in (pub.last_error or "")


def test_wordpress_user_without_publish_capability_fails_and_holds_the_account(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    site.users["editor"].can_publish = False
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pid = enqueue(rt)
        assert do_publish(rt, pid) == "failed"
        pub = rt.ledger.publication(pid)
        status = rt.ledger.account_status("blog")
    assert pub is not None and status[0] == "needs_credentials"
    assert "HTTP 403" in (pub.last_error or "") and "rest_cannot_publish" in (pub.last_error or "")


def test_wordpress_invalid_parameter_fails_with_code_and_message(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    site.fail_next(Fault("status", method="POST", path="/wp/v2/posts$", status=400, body={
        "code": "rest_invalid_param", "message": "Invalid parameter(s): meta",
        "data": {"status": 400, "params": {"meta": "meta._yoast_wpseo_canonical is not a valid property."}}}))
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pid = enqueue(rt)
        assert do_publish(rt, pid) == "failed"
        pub = rt.ledger.publication(pid)
    assert pub is not None and "HTTP 400" in (pub.last_error or "")
    assert ("rest_invalid_param: Invalid parameter(s): meta (meta: meta._yoast_wpseo_canonical is not a valid "
            "property.)") in (pub.last_error or "")


def test_wordpress_update_of_a_deleted_post_fails(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given revision 1's post was deleted on the site
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        first = enqueue(rt)
        assert do_publish(rt, first) == "published"
        site.delete_post(next(iter(site.posts)))
        # When revision 2 is published, Then it fails (no silent second post)
        second = enqueue(rt, item_data(revision=2, title="Edited"))
        assert do_publish(rt, second) == "failed"
        pub = rt.ledger.publication(second)
    assert pub is not None and "no longer exists" in (pub.last_error or "")
    assert "rest_post_invalid_id: Invalid post ID." in (pub.last_error or "") and site.posts == {}


def test_wordpress_rate_limit_defers_the_publication(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    site.fail_next(Fault("status", method="POST", path="/wp/v2/posts$", status=429, headers={"Retry-After": "90"},
                         body={"code": "too_many_requests", "message": "Too many requests.", "data": {"status": 429}}))
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pid = enqueue(rt)
        assert do_publish(rt, pid) == "deferred"
        pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "scheduled" and pub.attempts == 0
    assert "too_many_requests: Too many requests." in (pub.last_error or "")


@pytest.mark.parametrize("status", [502, 503])
def test_wordpress_gateway_errors_are_retried(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress, status: int
) -> None:
    site.fail_next(Fault("status", method="POST", path="/wp/v2/posts$", status=status,
                         body=b"<html><body>Bad Gateway</body></html>", headers={"Content-Type": "text/html"}))
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pid = enqueue(rt)
        assert do_publish(rt, pid) == "retrying"
        pub = rt.ledger.publication(pid)
    assert pub is not None and f"HTTP {status}" in (pub.last_error or "") and site.posts == {}


def test_wordpress_server_error_on_create_goes_in_doubt_and_reconcile_retries_when_absent(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    site.fail_next(Fault("status", method="POST", path="/wp/v2/posts$", status=500, body={
        "code": "internal_server_error", "message": "There has been a critical error on this website.",
        "data": {"status": 500}}))
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pid = enqueue(rt)
        assert do_publish(rt, pid) == "in_doubt"
        # When reconciling, Then the lookup by slug finds nothing: retry
        assert do_reconcile(rt, pid) == "retrying"
        pub = rt.ledger.publication(pid)
    assert pub is not None and "critical error" in (pub.last_error or "")
    lookup = site.requests[-1]
    assert lookup.method == "GET" and lookup.path == "/wp-json/wp/v2/posts"
    assert lookup.query["slug"] == [f"a-title-{pub.marker}"]
    assert lookup.query["status"] == ["publish,future,draft,pending"]


def test_wordpress_server_error_on_update_is_retried_because_updates_are_idempotent(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        assert do_publish(rt, enqueue(rt)) == "published"
        site.fail_next(Fault("status", method="POST", path=r"/wp/v2/posts/\d+$", status=500, body={
            "code": "internal_server_error", "message": "Critical error.", "data": {"status": 500}}))
        second = enqueue(rt, item_data(revision=2, title="Edited"))
        outcome = do_publish(rt, second)
    assert outcome == "retrying"


def test_wordpress_malformed_success_body_is_reconciled_by_slug(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given WordPress makes the post but its 201 body is not JSON (a PHP notice printed before it)
    site.fail_next(Fault("malformed", method="POST", path="/wp/v2/posts$"))
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pid = enqueue(rt)
        assert do_publish(rt, pid) == "in_doubt"
        assert do_reconcile(rt, pid) == "published"
        pub = rt.ledger.publication(pid)
    [post] = site.posts.values()
    assert pub is not None and pub.remote_id == str(post["id"]) and pub.permalink == site._link(post)


def test_wordpress_stalled_create_is_reconciled_to_exactly_one_post(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given WordPress makes the post but answers only after the read timeout
    site.fail_next(Fault("stall", when="after", method="POST", path="/wp/v2/posts$", seconds=1.5))
    with make_runtime(config_dir, sqlite_url, site.url, read_timeout_s=0.5) as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        # When the embedded worker runs (publish → in doubt → reconcile)
        [pub] = run_until_settled(rt, lambda: rt.ledger.publications(account="blog"), threads=2,
                                  timeout=timedelta(seconds=60))
        events = [e["kind"] for e in rt.ledger.events(publication_id=pub.id)]
    # Then the post found by its slug is recorded, and there is exactly one
    [post] = site.posts.values()
    assert pub.state == "published" and pub.remote_id == str(post["id"]) and "reconciled" in events
    assert len(post_creates(site)) == 1
