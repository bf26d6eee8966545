"""The LinkedIn adapter on its own: little-text escaping, fitting, options, token expiry, reconciliation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.linkedin import LinkedInAdapter, LinkedInOptions, escape_little_text, utf16_length
from syndicate.base.secrets import Credentials, SecretRef, SecretSource
from syndicate.channels.contract import AccountContext, PostContent, PublicationRef
from tests.fakes.linkedin import visible_text

TOKEN = "li-test-token-0123456789"
AUTHOR = "urn:li:organization:2414183"


def make_adapter(base_url: str | None = None, *, token: str = TOKEN, **options: Any) -> LinkedInAdapter:
    """A LinkedIn adapter for account ``li`` posting as :data:`AUTHOR` unless ``options`` say otherwise."""
    opts = LinkedInOptions.model_validate({"author": AUTHOR, **options})
    creds = Credentials("li", {"access_token": SecretRef("LI_TOKEN")}, SecretSource(environ={"LI_TOKEN": token}))
    return LinkedInAdapter(AccountContext(id="li", options=opts, credentials=creds, base_url=base_url,
                                          connect_timeout_s=1.0, read_timeout_s=0.5))


def content(**overrides: Any) -> PostContent:
    """A render input; keyword arguments replace fields."""
    data: dict[str, Any] = {
        "item_id": "item-1", "revision": 1, "locale": "en-US", "title": "A title", "summary": "A summary.",
        "body": "", "body_format": "markdown", "link": "https://example.com/a?utm_source=linkedin",
        "canonical_url": "https://example.com/a", "cta_text": None, "cta_url": None,
    }
    data.update(overrides)
    return PostContent(**data)


def publication(link: str = "https://example.com/a?utm_source=linkedin", **overrides: Any) -> PublicationRef:
    """A publication for account ``li``."""
    data: dict[str, Any] = {
        "id": 1, "key": "item-1/1/en-US/li/0", "item_id": "item-1", "revision": 1, "locale": "en-US",
        "account": "li", "slot": 0, "tagged_url": link, "marker": "0123456789ab",
        "scheduled_for": datetime.now(UTC),
    }
    data.update(overrides)
    return PublicationRef(**data)


RESERVED = "\\|{}@[]()<>#*_~"


@pytest.mark.parametrize(("plain", "escaped"), [
    ("Q&A (live) [45 min]", "Q&A \\(live\\) \\[45 min\\]"),
    ("a_b*c~d", "a\\_b\\*c\\~d"),
    ("{x|y} <b>", "\\{x\\|y\\} \\<b\\>"),
    ("back\\slash", "back\\\\slash"),
    ("mail @example_support", "mail \\@example\\_support"),
    ("C# and F#, we're #1", "C\\# and F\\#, we're \\#1"),
])
def test_linkedin_escapes_every_reserved_character_in_plain_text(plain: str, escaped: str) -> None:
    # Given plain text with reserved characters; When escaped; Then each is preceded by a backslash
    assert escape_little_text(plain) == escaped
    # and LinkedIn shows the text exactly as written
    assert visible_text(escaped) == plain


def test_linkedin_keeps_hashtags_as_hashtag_elements() -> None:
    # Given hashtags, including non-Latin ones and one followed by an underscore
    text = "#B2B #Künstliche #日本語 #tag_more"
    # When escaped
    out = escape_little_text(text)
    # Then the hashtags stay bare (LinkedIn links them) and only the underscore is escaped
    assert out == "#B2B #Künstliche #日本語 #tag\\_more"
    assert visible_text(out) == text


def test_linkedin_keeps_urls_intact_with_their_utm_underscores() -> None:
    # Given a tagged URL with underscores, a fragment and a tilde
    url = "https://example.com/~team/post?ref=launch&utm_source=linkedin&utm_medium=social#top"
    # When it is escaped inside a sentence in parentheses
    out = escape_little_text(f"Read it (here: {url}).")
    # Then the URL is byte for byte the same, and only the text around it is escaped
    assert out == f"Read it \\(here: {url}\\)."
    assert visible_text(out) == f"Read it (here: {url})."


def test_linkedin_percent_encodes_delimiters_inside_urls() -> None:
    # Given a URL whose path has parentheses (which would end the commentary if left bare)
    url = "https://en.wikipedia.org/wiki/Lead_(marketing)"
    # When escaped
    out = escape_little_text(f"See {url} now")
    # Then the parentheses are percent-encoded, the underscore kept, and nothing after it is lost
    assert out == "See https://en.wikipedia.org/wiki/Lead_%28marketing%29 now"
    assert visible_text(out).endswith(" now")


@given(st.text(alphabet=st.sampled_from(list(RESERVED + "ab #@_\n日👍é1")), max_size=60))
def test_linkedin_escaped_text_reads_back_as_the_plain_text(text: str) -> None:
    # Given any text of letters, digits, emoji and reserved characters (no URLs)
    # When escaped, Then a reader on LinkedIn sees exactly the original text
    assert visible_text(escape_little_text(text)) == text


def test_linkedin_counts_length_in_utf16_units() -> None:
    # Given an emoji outside the Basic Multilingual Plane and CJK inside it
    # Then the emoji counts 2 and each CJK character 1
    assert utf16_length("👍日本") == 4


def test_linkedin_render_fits_3000_units_after_escaping_and_keeps_link_whole() -> None:
    # Given a summary made of reserved characters (each doubles when escaped) far over the limit
    adapter = make_adapter()
    link = "https://example.com/post?utm_source=linkedin&utm_medium=social"
    c = content(summary="(x) " * 2000, link=link, cta_text="Read more")
    # When rendered
    r = adapter.render(c)
    # Then the escaped commentary fits, the link and call to action survive whole, and it says so
    assert r.length == utf16_length(r.text) <= 3000
    assert r.text.endswith(f"Read more {link}") or f"Read more {link}\n#" in r.text
    assert "text was shortened to fit the channel" in r.warnings
    assert visible_text(r.text).count(link) == 1


def test_linkedin_render_builds_the_article_card_from_title_summary_and_tagged_link() -> None:
    # Given an item with a title, a summary and a tagged link
    adapter = make_adapter()
    c = content(title="A [new] title", summary="What it is_about", link="https://example.com/a?utm_source=li")
    # When rendered
    r = adapter.render(c)
    # Then the card carries them as plain JSON strings (no little-text escaping) and the text is escaped
    assert r.extra["article"] == {"source": "https://example.com/a?utm_source=li", "title": "A [new] title",
                                  "description": "What it is_about"}
    assert r.text.startswith("A \\[new\\] title\n\nWhat it is\\_about")


def test_linkedin_render_warns_that_media_are_not_attached() -> None:
    # Given an item with an image; When rendered; Then the preview says the image will not go out
    from syndicate.channels.contract import MediaRef

    r = make_adapter().render(content(media=(MediaRef("https://example.com/i.png", "alt"),)))
    assert any("media" in w for w in r.warnings)
    assert r.media == ()


# -- options ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("author", ["urn:li:company:1", "urn:li:organization:abc", "person:1", ""])
def test_linkedin_options_refuse_an_author_that_is_not_a_member_or_organization_urn(author: str) -> None:
    # Given an author that is not urn:li:person:<id> or urn:li:organization:<digits>
    # When the options are validated, Then they are refused, naming the field
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="author"):
        LinkedInOptions.model_validate({"author": author})


def test_linkedin_options_refuse_connections_visibility_for_an_organization() -> None:
    # Given a page author with CONNECTIONS visibility; Then the options are refused
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="CONNECTIONS"):
        LinkedInOptions.model_validate({"author": AUTHOR, "visibility": "CONNECTIONS"})


def test_linkedin_options_refuse_a_version_that_is_not_yyyymm() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="linkedin_version"):
        LinkedInOptions.model_validate({"author": AUTHOR, "linkedin_version": "2026-10"})


def test_linkedin_refuses_plain_http_to_a_host_that_is_not_loopback() -> None:
    # Given a base URL over plain http on a public host; When the adapter is built; Then config error
    from syndicate.errors import ConfigError

    with pytest.raises(ConfigError, match="https"):
        make_adapter("http://api.example.com")


# -- token expiry ----------------------------------------------------------------------------------


def test_linkedin_render_warns_and_logs_when_the_token_expires_within_the_warning_period() -> None:
    # Given a token expiring in 3 days and 14 days of warning
    from datetime import timedelta

    from structlog.testing import capture_logs

    expires = datetime.now(UTC) + timedelta(days=3, hours=1)
    adapter = make_adapter(token_expires_at=expires.isoformat(), token_warning="14d")
    # When a post is rendered
    with capture_logs() as logs:
        r = adapter.render(content())
    # Then the preview warns and the event names the account and the days left
    assert any("expires in 3 days" in w for w in r.warnings)
    [event] = [e for e in logs if e["event"] == "account.token_expiring"]
    assert event["account"] == "li" and event["days_left"] == 3 and event["log_level"] == "warning"


def test_linkedin_render_is_quiet_when_the_token_is_far_from_expiry() -> None:
    from datetime import timedelta

    from structlog.testing import capture_logs

    adapter = make_adapter(token_expires_at=(datetime.now(UTC) + timedelta(days=50)).isoformat())
    with capture_logs() as logs:
        r = adapter.render(content())
    assert r.warnings == ()
    assert not [e for e in logs if e["event"].startswith("account.token")]


def test_linkedin_publish_with_an_expired_token_raises_auth_error_without_calling() -> None:
    # Given a token whose expiry date has passed, and a LinkedIn that records every request
    from datetime import timedelta

    from syndicate.errors import AuthError
    from tests.fakes.linkedin import FakeLinkedIn, TokenGrant

    with FakeLinkedIn({TOKEN: TokenGrant({AUTHOR})}) as fake:
        adapter = make_adapter(fake.url, token_expires_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
        r = adapter.render(content())
        # When publishing, Then it fails as an auth error and LinkedIn heard nothing
        with pytest.raises(AuthError, match="expired"):
            adapter.publish(r, publication())
        assert fake.requests == []
    assert any("expired" in w for w in r.warnings)


# -- reconciliation --------------------------------------------------------------------------------


def test_linkedin_find_existing_ignores_the_previous_revisions_post_with_the_same_link() -> None:
    # Given the previous revision's post carries the same tagged URL (utm_content has no revision)
    from tests.fakes.linkedin import FakeLinkedIn, TokenGrant

    link = "https://example.com/a?utm_source=linkedin"
    with FakeLinkedIn({TOKEN: TokenGrant({AUTHOR})}) as fake:
        old = fake.add_existing(AUTHOR, "old text", source=link)
        adapter = make_adapter(fake.url)
        # When the new revision looks for its post, Then the old post is not taken for it
        found = adapter.find_existing(adapter.render(content()), publication(link, revision=2,
                                                                              previous_remote_id=old))
    assert found is None


def test_linkedin_find_existing_ignores_posts_older_than_the_publication() -> None:
    # Given a post with our link made a day before the publication was scheduled
    import time

    from tests.fakes.linkedin import FakeLinkedIn, TokenGrant

    link = "https://example.com/a?utm_source=linkedin"
    with FakeLinkedIn({TOKEN: TokenGrant({AUTHOR})}) as fake:
        fake.add_existing(AUTHOR, "x", source=link, created_ms=int((time.time() - 86400) * 1000))
        adapter = make_adapter(fake.url)
        assert adapter.find_existing(adapter.render(content()), publication(link)) is None


def test_linkedin_find_existing_cannot_tell_when_the_page_of_recent_posts_is_full() -> None:
    # Given more recent posts by the author than reconciliation reads, none with our link
    from syndicate.errors import InDoubt
    from tests.fakes.linkedin import FakeLinkedIn, TokenGrant

    with FakeLinkedIn({TOKEN: TokenGrant({AUTHOR})}) as fake:
        for i in range(3):
            fake.add_existing(AUTHOR, f"post {i}", source=f"https://example.com/other/{i}")
        adapter = make_adapter(fake.url, find_existing_count=3)
        # When looking, Then it cannot tell rather than answering "absent"
        with pytest.raises(InDoubt, match="most recent posts"):
            adapter.find_existing(adapter.render(content()), publication())
        # And the finder request is the documented one
        req = fake.requests[-1]
        assert req.query == {"q": ["author"], "author": [AUTHOR], "count": ["3"], "sortBy": ["LAST_MODIFIED"]}
        assert req.header("X-RestLi-Method") == "FINDER"


def test_linkedin_fetch_metrics_reads_reactions_and_comments_from_social_metadata() -> None:
    # Given a post with 3 likes, 2 praises and 4 comments
    from tests.fakes.linkedin import FakeLinkedIn, TokenGrant

    with FakeLinkedIn({TOKEN: TokenGrant({AUTHOR})}) as fake:
        urn = fake.add_existing(AUTHOR, "x")
        fake.set_metrics(urn, likes=3, praise=2, comments=4)
        # When metrics are fetched, Then reactions add up to likes and comments are replies
        metrics = make_adapter(fake.url).fetch_metrics(urn, publication())
        assert metrics == {"likes": 5, "replies": 4}
        assert fake.requests[-1].path == "/rest/socialMetadata/urn%3Ali%3Ashare%3A" + urn.rsplit(":", 1)[1]
