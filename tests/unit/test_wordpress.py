"""The WordPress adapter on its own: HTML rendering, sanitizing, slugs, options, safety, languages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.wordpress import WordPressAdapter, WordPressOptions, markdown_to_html, slug_base
from syndicate.base.secrets import Credentials, SecretRef, SecretSource
from syndicate.channels.contract import AccountContext, MediaRef, PostContent, PublicationRef, Safety
from syndicate.errors import ConfigError, ContentError, PermanentError
from tests.fakes.wordpress import FakeWordPress, WpUser

PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
LINK = "https://example.com/post?utm_source=wordpress&utm_medium=referral"


def make_adapter(base_url: str | None = "https://blog.example.com", **options: Any) -> WordPressAdapter:
    """A WordPress adapter for account ``blog`` with user ``editor``."""
    creds = Credentials("blog", {"username": SecretRef("WP_USER"), "app_password": SecretRef("WP_PASS")},
                        SecretSource(environ={"WP_USER": "editor", "WP_PASS": PASSWORD}))
    return WordPressAdapter(AccountContext(id="blog", options=WordPressOptions.model_validate(options),
                                           credentials=creds, base_url=base_url, connect_timeout_s=1.0,
                                           read_timeout_s=0.5))


def content(**overrides: Any) -> PostContent:
    """A render input; keyword arguments replace fields."""
    data: dict[str, Any] = {
        "item_id": "item-1", "revision": 1, "locale": "en-US", "title": "A title", "summary": "A summary.",
        "body": "Some *body*.", "body_format": "markdown", "link": LINK, "canonical_url": "https://example.com/post",
        "cta_text": None, "cta_url": None,
    }
    data.update(overrides)
    return PostContent(**data)


def publication(**overrides: Any) -> PublicationRef:
    data: dict[str, Any] = {
        "id": 1, "key": "item-1/1/en-US/blog/0", "item_id": "item-1", "revision": 1, "locale": "en-US",
        "account": "blog", "slot": 0, "tagged_url": LINK, "marker": "0123456789ab",
        "scheduled_for": datetime.now(UTC),
    }
    data.update(overrides)
    return PublicationRef(**data)


# -- rendering -------------------------------------------------------------------------------------


def test_wordpress_converts_markdown_and_shows_raw_html_as_text() -> None:
    # Given Markdown with raw HTML (a script) in it; When converted
    out = markdown_to_html("## Heading\n\nHello <script>alert(1)</script> **there**.\n\n"
                           "| a | b |\n|---|---|\n| 1 | 2 |\n")
    # Then the heading, emphasis and table are HTML, and the script is escaped text, not markup
    assert "<h2>Heading</h2>" in out and "<strong>there</strong>" in out and "<table>" in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "<script>" not in out


def test_wordpress_render_sanitizes_an_html_body() -> None:
    # Given an HTML body with a javascript: link, an event handler and a style
    body = '<p onclick="x()" style="color:red">Hi <a href="javascript:alert(1)">x</a><iframe src="https://e.x"></iframe></p>'
    # When rendered, Then only the allowlisted markup is left
    r = make_adapter().render(content(body=body, body_format="html"))
    assert "onclick" not in r.text and "style=" not in r.text and "javascript:" not in r.text
    assert "<iframe" not in r.text and r.text.startswith("<p>Hi <a")


def test_wordpress_render_ends_with_the_visible_link_back_to_the_tagged_canonical_url() -> None:
    # Given an item with a call to action; When rendered
    r = make_adapter().render(content(cta_text="Read more", cta_url="https://example.com/post?utm_source=wordpress"))
    # Then the body, the call to action and the back-link follow each other, HTML-escaped
    assert r.text == (
        "<p>Some <em>body</em>.</p>\n"
        '<p><a href="https://example.com/post?utm_source=wordpress" rel="noopener noreferrer">Read more</a></p>\n'
        '<p>Originally published at <a href="https://example.com/post?utm_source=wordpress&amp;utm_medium=referral" '
        'rel="noopener noreferrer">https://example.com/post</a>.</p>')
    assert r.format == "html" and r.length == len(r.text)


def test_wordpress_render_uses_the_locales_notice() -> None:
    adapter = make_adapter(notice_by_locale={"de-DE": "Zuerst erschienen auf {link} & mehr"})
    r = adapter.render(content(locale="de-DE"))
    assert r.text.endswith(">https://example.com/post</a> &amp; mehr</p>")


def test_wordpress_render_wraps_right_to_left_locales() -> None:
    # Given an Arabic post; When rendered; Then the whole article is in a dir="rtl" block
    r = make_adapter().render(content(locale="ar-EG", rtl=True))
    assert r.text.startswith('<div lang="ar-EG" dir="rtl"><p>') and r.text.endswith("</p></div>")


def test_wordpress_render_escapes_title_and_excerpt_as_plain_text() -> None:
    r = make_adapter().render(content(title="Q&A <live>", summary="Tips & <b>tricks</b>"))
    assert r.title == "Q&amp;A &lt;live&gt;"
    assert r.extra["excerpt"] == "Tips &amp; &lt;b&gt;tricks&lt;/b&gt;"


def test_wordpress_render_puts_images_first_and_warns_about_missing_alt_text() -> None:
    media = (MediaRef("https://example.com/a.png", "A chart"), MediaRef("https://example.com/b.png", None))
    r = make_adapter().render(content(media=media))
    assert r.text.startswith('<figure><img src="https://example.com/a.png" alt="A chart"></figure>\n'
                             '<figure><img src="https://example.com/b.png" alt=""></figure>\n<p>Some')
    assert r.warnings == ("media https://example.com/b.png has no alt text",)


def test_wordpress_render_lists_terms_by_name_without_duplicates() -> None:
    r = make_adapter(categories=["News"], extra_tags=["B2B", "Launch"]).render(content(tags=("b2b", "Analytics")))
    assert r.extra["categories"] == ["News"] and r.extra["tags"] == ["b2b", "Analytics", "Launch"]


@pytest.mark.parametrize(("title", "fallback", "expected"), [
    ("How Northwind doubled partner-sourced pipeline in two quarters", "x",
     "how-northwind-doubled-partner-sourced-pipeline-in-two"),
    ("Zurückverfolgt: Ärger & Öl", "x", "zuruckverfolgt-arger-ol"),
    ("日本語のタイトル", "launch-2026.ja", "launch-2026-ja"),
])
def test_wordpress_slug_base_is_readable_ascii(title: str, fallback: str, expected: str) -> None:
    assert slug_base(title, fallback) == expected


def test_wordpress_render_refuses_a_locale_without_a_site() -> None:
    # Given an account with sites per locale only; When a locale without a site is rendered; Then content error
    adapter = make_adapter(None, sites={"de-DE": "https://example.de"})
    with pytest.raises(ContentError, match="no WordPress site for fr-FR"):
        adapter.render(content(locale="fr-FR"))
    assert adapter.render(content(locale="de-DE")).extra["site"] == "https://example.de"


# -- options and set-up ----------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "match"), [
    ({"notice": "Originally published elsewhere."}, "notice must contain"),
    ({"sites": {"de-DE": "http://example.de"}}, "https"),
    ({"language_param": "lang", "language_taxonomy": "language"}, "not both"),
    ({"canonical_meta_key": "has space"}, "canonical_meta_key"),
])
def test_wordpress_options_refuse_invalid_settings(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        WordPressOptions.model_validate(options)


def test_wordpress_refuses_plain_http_to_a_host_that_is_not_loopback() -> None:
    with pytest.raises(ConfigError, match="https"):
        make_adapter("http://blog.example.com")


def test_wordpress_needs_a_base_url_or_sites() -> None:
    with pytest.raises(ConfigError, match="base_url"):
        make_adapter(None)


def test_wordpress_update_in_place_is_idempotent_and_a_create_is_reconcile_only() -> None:
    adapter = make_adapter()
    assert adapter.safety_for(publication()) is Safety.RECONCILE_ONLY
    assert adapter.safety_for(publication(revision=2, previous_remote_id="101")) is Safety.IDEMPOTENT


# -- against the fake site, without the pipeline --------------------------------------------------


def test_wordpress_language_taxonomy_term_is_resolved_by_code() -> None:
    # Given a site with a "language" taxonomy holding "de"
    with FakeWordPress({"editor": WpUser(PASSWORD)}, taxonomies=("categories", "tags", "language")) as site:
        de = site.add_term("language", "de")
        adapter = make_adapter(site.url, language_taxonomy="language")
        # When a German post is published
        r = adapter.render(content(locale="de-DE"))
        receipt = adapter.publish(r, publication(locale="de-DE"))
        # Then the post carries the language term
        assert site.posts[int(receipt.remote_id)]["language"] == [de]


def test_wordpress_missing_term_fails_naming_it_when_terms_are_not_created() -> None:
    with FakeWordPress({"editor": WpUser(PASSWORD)}) as site:
        adapter = make_adapter(site.url, categories=["Product News"])
        with pytest.raises(PermanentError, match="'Product News' does not exist") as err:
            adapter.publish(adapter.render(content()), publication())
        assert "create_terms: false" in str(err.value)
        assert site.posts == {}
