"""The one markup module every channel shares: Markdown read one way, HTML to plain text, and the
direction of right-to-left text."""

from __future__ import annotations

from syndicate.channels import body_html, body_text, html_to_text, with_direction


def test_html_becomes_paragraphs_with_link_targets_after_their_text() -> None:
    # Given headings, paragraphs, a list and links (one whose text is its own target)
    html = ("<h2>Every post, measured</h2><p>See <strong>which</strong> region <a href=\"https://example.com/d\">"
            "works</a> best.</p><ul><li>one</li><li><a href=\"https://example.com\">https://example.com</a></li></ul>")
    # Then blocks are paragraphs, markup is gone, and each target is said once
    assert html_to_text(html) == ("Every post, measured\n\nSee which region works https://example.com/d best."
                                  "\n\none\n\nhttps://example.com")


def test_table_cells_are_kept_apart_and_entities_read() -> None:
    html = "<table><tr><th>Region</th><th>Posts</th></tr><tr><td>EMEA &amp; APAC</td><td>12</td></tr></table>"
    assert html_to_text(html) == "Region Posts\n\nEMEA & APAC 12"


def test_scripts_and_styles_leave_nothing_behind() -> None:
    assert html_to_text("<p>a</p><script>alert(1)</script><style>p{}</style><p>b</p>") == "a\n\nb"


def test_raw_html_in_markdown_is_text_on_every_channel() -> None:
    # Given Markdown with raw HTML in it
    body = "Hello <b>world</b>"
    # Then the blog's HTML and the social post's text both show it as written, not as markup
    assert "&lt;b&gt;world&lt;/b&gt;" in body_html(body, "markdown")
    assert body_text(body, "markdown") == "Hello <b>world</b>"


def test_an_html_body_and_its_markdown_twin_read_the_same() -> None:
    assert body_text("## Title\n\nSome *text*.", "markdown") == body_text("<h2>Title</h2><p>Some <em>text</em>.</p>",
                                                                           "html")


def test_right_to_left_html_is_wrapped_with_its_direction_and_language() -> None:
    # Given sanitized HTML / When marked for Arabic, for Hebrew without a language, and for German
    assert with_direction("<p>مرحبا</p>", "ar-EG") == '<div lang="ar-EG" dir="rtl"><p>مرحبا</p></div>'
    assert with_direction("<p>שלום</p>", "he-IL", lang=False) == '<div dir="rtl"><p>שלום</p></div>'
    # Then only right-to-left locales are wrapped
    assert with_direction("<p>Hallo</p>", "de-DE") == "<p>Hallo</p>"


def test_a_body_renders_the_same_every_time_whether_its_html_is_kept_or_not() -> None:
    # Given a short body (its HTML is kept) and one over the size kept, each in both formats
    short = "Hello **world** <script>x()</script> [link](https://example.com/a)"
    long = short + "\n\n" + "word " * 8_000
    for body in (short, long):
        for fmt in ("markdown", "html"):
            first = body_html(body, fmt)
            # When it is rendered again (the second time from what was kept, for the short one)
            again = body_html(body, fmt)
            # Then the same sanitized HTML comes back, and a different format is not confused with it
            assert again == first and "<script>" not in first
    assert body_html(short, "markdown") != body_html(short, "html")
