"""Which links are tagged: the call to action always, links in the text to our hosts, never a
never-tag host; utm_content names the revision; never-tag lists are validated."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.base.fields import host_key
from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from syndicate.intake.attribution import MAX_UTM_CONTENT_CHARS, LinkTagger, tag_links, tag_url, utm_content
from syndicate.intake.planning import PlanOptions, plan_item
from syndicate.localization.masking import URL
from syndicate.model.config import Config
from syndicate.model.item import InvalidItem, parse_item
from syndicate.publishing.content import build_content
from tests.helpers import item_data, sandbox_accounts, simple_route

P = {"utm_source": "x", "utm_content": "c"}
Q = "utm_source=x&utm_content=c"
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def tagger(*hosts: str, never: tuple[str, ...] = ()) -> LinkTagger:
    return LinkTagger(P, hosts=hosts or ("example.com",), never_tag=never)


# -- links in text -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "tagged"), [
    # bare URLs, with the punctuation that ends a sentence left outside
    ("Read https://example.com/a.", f"Read https://example.com/a?{Q}."),
    ("(see https://example.com/a), then", f"(see https://example.com/a?{Q}), then"),
    ("https://example.com/wiki/Foo_(bar) is", f"https://example.com/wiki/Foo_(bar)?{Q} is"),
    ("https://example.com/a?b=1#top!", f"https://example.com/a?b=1&{Q}#top!"),
    ("two: https://example.com/1 https://example.com/2", f"two: https://example.com/1?{Q} https://example.com/2?{Q}"),
    # Markdown links and autolinks
    ("[Pricing](https://example.com/pricing)", f"[Pricing](https://example.com/pricing?{Q})"),
    ('[P](https://example.com/p "Title")', f'[P](https://example.com/p?{Q} "Title")'),
    ("<https://example.com/a>", f"<https://example.com/a?{Q}>"),
    # hosts compare case-insensitively, IDN equal to punycode, a trailing dot ignored
    ("https://EXAMPLE.com/a", f"https://EXAMPLE.com/a?{Q}"),
    ("https://example.com./a", f"https://example.com./a?{Q}"),
    # not ours: other hosts, subdomains of ours, image sources
    ("https://other.example/a and https://www.example.com/a", "https://other.example/a and https://www.example.com/a"),
    ("![Chart](https://example.com/chart.png)", "![Chart](https://example.com/chart.png)"),
    ("![a [b] c](https://example.com/chart.png)", "![a [b] c](https://example.com/chart.png)"),
    ("[a [b] c](https://example.com/x)", f"[a [b] c](https://example.com/x?{Q})"),
    ("no links here, only example.com", "no links here, only example.com"),
    ("ftp://example.com/a", "ftp://example.com/a"),
])
def test_links_to_our_hosts_in_plain_and_markdown_text_are_tagged(text: str, tagged: str) -> None:
    assert tagger().text(text) == tagged


def test_idn_and_punycode_spellings_of_a_host_are_the_same_host() -> None:
    # Given the canonical host written in Unicode and a link in punycode, and the other way round
    assert tagger("bücher.example").text("https://xn--bcher-kva.example/a") == f"https://xn--bcher-kva.example/a?{Q}"
    assert tagger("XN--BCHER-KVA.example").text("https://Bücher.example/a") == f"https://Bücher.example/a?{Q}"
    assert host_key("Bücher.Example.") == "xn--bcher-kva.example"


@pytest.mark.parametrize(("html", "tagged"), [
    ('<p><a href="https://example.com/a?b=1&amp;c=2">go</a></p>',
     '<p><a href="https://example.com/a?b=1&amp;c=2&amp;utm_source=x&amp;utm_content=c">go</a></p>'),
    ("<a href='https://example.com/a'>go</a>", f"<a href='https://example.com/a?{Q.replace('&', '&amp;')}'>go</a>"),
    ('<p>Visit https://example.com/a.</p>', f"<p>Visit https://example.com/a?{Q.replace('&', '&amp;')}.</p>"),
    ('<img src="https://example.com/i.png" alt="https://example.com/">',
     '<img src="https://example.com/i.png" alt="https://example.com/">'),
    ('<a title="x" href="https://other.example/">https://other.example/</a>',
     '<a title="x" href="https://other.example/">https://other.example/</a>'),
])
def test_html_bodies_tag_hrefs_and_urls_in_text_but_not_other_attributes(html: str, tagged: str) -> None:
    assert tagger().text(html, html_markup=True) == tagged


def test_never_tag_covers_a_host_and_its_subdomains() -> None:
    # Given partner.example never to be tagged, though an item links to it as its CTA host
    t = tagger("example.com", "partner.example", never=("Partner.Example",))
    # Then neither it nor its subdomains are tagged, in text or as the CTA; other hosts' CTAs are
    text = "https://partner.example/a https://www.partner.example/b https://example.com/c"
    assert t.text(text) == f"https://partner.example/a https://www.partner.example/b https://example.com/c?{Q}"
    assert t.url("https://events.partner.example/register") == "https://events.partner.example/register"
    assert t.url("https://landing.example/trial") == f"https://landing.example/trial?{Q}"


def test_the_url_pattern_is_the_one_translation_protects() -> None:
    # The links we tag are exactly the spans machine translation leaves untouched
    from syndicate.intake import attribution

    assert attribution.URL is URL


_PIECES = ["see ", "https://example.com/a", "?b=1", "#f", ".", " ", "(", ")", "[l](", "![i](",
           "https://other.example/", "ü", "\n", "<", "&amp;"]


@given(st.lists(st.sampled_from([*_PIECES, "&utm_source=old"]), max_size=14).map("".join))
def test_tagging_text_twice_is_tagging_it_once(text: str) -> None:
    once = tag_links(text, P, hosts=["example.com"])
    assert tag_links(once, P, hosts=["example.com"]) == once
    assert tag_links(text, P, hosts=["nowhere.example"]) == text


@given(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join))
def test_tagging_text_only_adds_our_parameters(text: str) -> None:
    # Given text without utm parameters of its own
    once = tag_links(text, P, hosts=["example.com"])
    # Then taking out what tagging added gives the text back, byte for byte
    assert once.replace(f"?{Q}", "").replace(f"&{Q}", "") == text


# -- the render input: the same tagged links for every channel -------------------------------------


class Target:
    """A publication as build_content sees it."""

    def __init__(self, utm: dict[str, str], *, account: str = "a", channel: str = "sandbox", slot: int = 0) -> None:
        self.locale, self.account, self.channel, self.slot, self.utm = "en-US", account, channel, slot, utm
        self.tagged_url = tag_url("https://example.com/post", utm)


def test_build_content_tags_the_cta_and_the_links_in_every_text_field() -> None:
    # Given an item whose CTA is on a landing-page host, with links in summary, body, override and variant
    item = parse_item(item_data(
        summary="Summary: https://example.com/s and https://landing.example/s",
        body="Body [signup](https://landing.example/trial) and https://partner.example/p",
        cta={"text": "Start a trial", "url": "https://landing.example/trial?plan=pro"},
        overrides={"channels": {"a": {"en-US": "Hand-written https://example.com/h"}}},
        repeat={"interval": "1d", "count": 1, "variants": ["Variant https://landing.example/v"]},
        never_tag=["partner.example"]))
    # When the render input of slot 0 and slot 1 is built
    first = build_content(item, {}, Target(P))
    second = build_content(item, {}, Target(P, slot=1))
    # Then the CTA and every link to the canonical or CTA host carry the UTM parameters
    assert first.cta_url == f"https://landing.example/trial?plan=pro&{Q}"
    assert first.summary == f"Summary: https://example.com/s?{Q} and https://landing.example/s?{Q}"
    assert first.body == f"Body [signup](https://landing.example/trial?{Q}) and https://partner.example/p"
    assert first.channel_text == f"Hand-written https://example.com/h?{Q}"
    assert second.variant == f"Variant https://landing.example/v?{Q}"
    # And the canonical URL stays as written (rel=canonical), the link is the publication's
    assert first.canonical_url == "https://example.com/post?x=1#frag" and first.link == Target(P).tagged_url


def test_build_content_tags_the_localized_text_and_honours_the_routes_never_tag_list() -> None:
    # Given a machine translation that kept the links, and a route that never tags the CTA host
    item = parse_item(item_data(cta={"text": "Anmelden", "url": "https://events.example/register"}))
    fields = {"summary": "Zusammenfassung https://example.com/de", "body": "Mehr: https://events.example/agenda"}
    content = build_content(item, fields, Target(P), never_tag=["events.example"])
    # Then the localized text is tagged, and the route's never-tag host is left alone
    assert content.summary == f"Zusammenfassung https://example.com/de?{Q}"
    assert content.body == "Mehr: https://events.example/agenda"
    assert content.cta_url == "https://events.example/register"


def test_an_html_body_gets_its_links_tagged_as_html() -> None:
    item = parse_item(item_data(body_format="html", body='<p><a href="https://example.com/a?b=1&amp;c=2">a</a></p>'))
    content = build_content(item, {}, Target(P))
    # (the body was sanitized at intake, which added rel)
    assert content.body == ('<p><a href="https://example.com/a?b=1&amp;c=2&amp;utm_source=x&amp;utm_content=c" '
                            'rel="noopener noreferrer">a</a></p>')


@pytest.fixture
def config(config_dir: Callable[..., Path]) -> Callable[..., Config]:
    def build(**route: Any) -> Config:
        return load_config(config_dir(accounts=sandbox_accounts("a"),
                                      routes=[simple_route("r", ["en-US"], ["a"], **route)]), check_secrets=False)

    return build


def test_a_canonical_url_on_a_never_tag_host_goes_out_untagged(config: Callable[..., Config]) -> None:
    # Given a route that never tags partner.example, and an item whose canonical page is there
    cfg = config(never_tag=["partner.example"])
    item = parse_item(item_data(canonical_url="https://blog.partner.example/our-guest-post?ref=1",
                                cta={"text": "Try it", "url": "https://example.com/trial"}))
    # When planned / Then its link is the canonical URL as written; the UTM values are still the post's
    [pub] = plan_item(item, cfg, PlanOptions(now=NOW))
    assert pub.tagged_url == "https://blog.partner.example/our-guest-post?ref=1"
    assert pub.utm["utm_content"] == "item-1.r1.en-US.a.0"
    # And the CTA on our own host carries them
    assert build_content(item, {}, pub, never_tag=cfg.routes["r"].never_tag).cta_url == (
        f"https://example.com/trial?{'&'.join(f'{k}={v}' for k, v in pub.utm.items())}")


# -- never_tag lists are validated -------------------------------------------------------------------


@pytest.mark.parametrize(("entry", "message"), [
    ("https://partner.example/", "write the host alone"),
    ("partner.example/path", "write the host alone"),
    ("*.partner.example", "covers its subdomains too"),
    ("partner.example:8443", "leave out the port"),
    ("", "empty host name"),
    ("-bad-.example", "not a valid host name"),
])
def test_an_item_never_tag_entry_that_is_not_a_host_is_refused_naming_the_field(entry: str, message: str) -> None:
    with pytest.raises(InvalidItem) as err:
        parse_item(item_data(never_tag=[entry]))
    assert "never_tag" in str(err.value) and message in str(err.value)


def test_never_tag_entries_are_stored_in_their_comparable_form() -> None:
    item = parse_item(item_data(never_tag=["Partner.Example.", "Bücher.example", "192.0.2.7"]))
    assert item.never_tag == ["partner.example", "xn--bcher-kva.example", "192.0.2.7"]


def test_a_route_never_tag_entry_that_is_not_a_host_stops_start_up_naming_file_and_field(
    config_dir: Callable[..., Path]
) -> None:
    cfg = config_dir(accounts=sandbox_accounts("a"),
                     routes=[simple_route("r", ["en-US"], ["a"], never_tag=["partner.example", "https://x.example/"])])
    with pytest.raises(ConfigError) as err:
        load_config(cfg, check_secrets=False)
    assert "r.yaml" in str(err.value) and "never_tag.1" in str(err.value) and "write the host alone" in str(err.value)


def test_an_item_without_never_tag_keeps_the_content_hash_it_had_before_the_field_existed() -> None:
    # Given an item as stored before never_tag existed
    data = {"id": "item-1", "revision": 1, "source_locale": "en-US", "title": "A title", "summary": "A summary.",
            "body": "Body.", "canonical_url": "https://example.com/post", "campaign": "c", "approved": True,
            "approved_by": "tester@example.com", "approved_at": "2026-01-01T00:00:00Z"}
    item = parse_item(data)
    # Then its hash is the hash of its fields without never_tag, so re-submitting it stays a no-op
    dumped = item.model_dump(mode="json")
    dumped.pop("never_tag")
    dumped.pop("first_comment")  # added later still: left out of the hash while unset, like never_tag
    expected = hashlib.sha256(json.dumps(dumped, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    assert item.content_hash() == expected
    # And setting never_tag is an edit
    assert parse_item({**data, "never_tag": ["partner.example"]}).content_hash() != expected


# -- utm_content -----------------------------------------------------------------------------------------


def test_utm_content_names_item_revision_locale_account_and_slot() -> None:
    assert utm_content("launch-2026", 1, "de-DE", "x-dach", 0) == "launch-2026.r1.de-DE.x-dach.0"
    assert utm_content("launch-2026", 2, "de-DE", "x-dach", 0) == "launch-2026.r2.de-DE.x-dach.0"


def test_a_long_utm_content_is_cut_to_100_characters_keeping_it_unique_and_readable() -> None:
    # Given ids long enough to go over GA4's 100 characters
    item = "a-very-long-item-id-" * 6
    values = {utm_content(item, rev, "zh-Hant-TW", "linkedin-greater-china", slot)
              for rev in (1, 2, 10) for slot in (0, 1)}
    # Then each value fits, all differ, and each starts with the item and ends with the readable rest
    assert len(values) == 6 and all(len(v) <= MAX_UTM_CONTENT_CHARS for v in values)
    assert all(v.startswith("a-very-long-item-id-") and "~" in v for v in values)
    assert utm_content(item, 2, "zh-Hant-TW", "linkedin-greater-china", 1).endswith(
        ".r2.zh-Hant-TW.linkedin-greater-china.1")
    # And a rest too long on its own is cut whole, still unique
    huge = {utm_content("i", 1, "en-US", "acct-" + "y" * 120 + str(n), 0) for n in range(3)}
    assert len(huge) == 3 and all(len(v) == MAX_UTM_CONTENT_CHARS for v in huge)


def test_planning_gives_each_revision_its_own_utm_content_and_link(config: Callable[..., Config]) -> None:
    cfg = config()
    [r1] = plan_item(parse_item(item_data(revision=1)), cfg, PlanOptions(now=NOW))
    [r2] = plan_item(parse_item(item_data(revision=2)), cfg, PlanOptions(now=NOW))
    assert (r1.utm["utm_content"], r2.utm["utm_content"]) == ("item-1.r1.en-US.a.0", "item-1.r2.en-US.a.0")
    assert r1.tagged_url != r2.tagged_url
    assert r1.tagged_url.startswith("https://example.com/post?x=1&utm_source=sandbox&")
    assert r1.tagged_url.endswith("&utm_content=item-1.r1.en-US.a.0#frag")


def test_host_keys_are_kept_for_hosts_dns_allows_and_computed_for_longer_text() -> None:
    from syndicate.base.fields import _host_key_cached

    # Given a host name and a text far longer than any DNS name (a crafted link)
    long_text = "a" * 5000 + ".example"
    before = _host_key_cached.cache_info()
    # When each is compared twice / Then the answers are those of the UTS 46 mapping every time
    assert host_key("Bücher.Example.") == host_key("Bücher.Example.") == "xn--bcher-kva.example"
    assert host_key(long_text) == host_key(long_text) == long_text.lower()
    # and the cache answered the host's second call but never held the long text
    after = _host_key_cached.cache_info()
    assert after.hits >= before.hits + 1
    assert after.currsize <= before.currsize + 1
