"""What each channel's render says about an item's media (pure: no fetch, no upload)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapters.linkedin import LinkedInOptions
from adapters.wordpress import WordPressOptions
from syndicate.channels.contract import MediaRef
from tests.unit import test_linkedin as li
from tests.unit import test_wordpress as wp

CHART = MediaRef("https://example.com/chart.png", "A chart")
NO_ALT = MediaRef("https://example.com/b.png", None)
VIDEO = MediaRef("https://example.com/v.mp4", "A video", kind="video")


def test_linkedin_image_share_carries_the_images_and_no_article_card() -> None:
    # Given an account making image posts, and an item with two images (one without alt) and a video
    adapter = li.make_adapter(share_as="image")
    # When rendered
    r = adapter.render(li.content(media=(CHART, NO_ALT, VIDEO)))
    # Then the images go, the video does not, and the preview says so and names the missing alt text
    assert r.media == (CHART, NO_ALT) and r.extra["share"] == "image" and r.extra["article"] is None
    assert "videos not attached: only images are uploaded to LinkedIn" in r.warnings
    assert "media https://example.com/b.png has no alt text" in r.warnings
    # And the tagged link stays in the commentary (an image post has no card to carry it)
    assert "https://example.com/a?utm_source=linkedin" in r.text


def test_linkedin_image_share_without_images_is_a_link_share() -> None:
    r = li.make_adapter(share_as="image").render(li.content())
    assert r.media == () and r.extra["share"] == "article" and r.extra["article"] is not None


def test_linkedin_image_share_takes_at_most_twenty_images() -> None:
    many = tuple(MediaRef(f"https://example.com/{i}.png", f"Image {i}") for i in range(23))
    r = li.make_adapter(share_as="image").render(li.content(media=many))
    assert r.media == many[:20] and "only the first 20 images are attached" in r.warnings


def test_linkedin_share_as_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValidationError, match="share_as"):
        LinkedInOptions.model_validate({"author": li.AUTHOR, "share_as": "carousel"})


def test_wordpress_featured_image_only_carries_the_first_image_and_shows_none() -> None:
    # Given an account that uploads, wants a featured image, and keeps images out of the article
    adapter = wp.make_adapter(upload_media=True, include_media=False)
    r = adapter.render(wp.content(media=(VIDEO, CHART, NO_ALT)))
    # Then the post carries the first image alone, and the article shows no image
    assert r.media == (CHART,) and "<img" not in r.text


def test_wordpress_without_uploads_keeps_the_items_urls_in_the_article() -> None:
    r = wp.make_adapter().render(wp.content(media=(CHART,)))
    assert '<img src="https://example.com/chart.png" alt="A chart">' in r.text and r.media == (CHART,)


@pytest.mark.parametrize("options", [{"media_types": ["image/tiff"]}, {"media_types": []},
                                     {"max_upload_bytes": 10}])
def test_wordpress_media_options_refuse_what_no_site_takes(options: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        WordPressOptions.model_validate(options)


def test_wordpress_media_spec_follows_the_accounts_options() -> None:
    spec = wp.make_adapter(media_types=["image/png"], max_upload_bytes=4096).media_spec
    assert dict(spec.max_bytes) == {"image/png": 4096}
