"""X accounts in accounts.yaml: credentials by auth mode, strict options, and what rendering warns about."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.x import XAdapter, XOptions
from syndicate.base.secrets import Credentials
from syndicate.channels.contract import AccountContext, MediaRef, PostContent
from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from tests.fakes.x import FakeX, x_account, x_environ
from tests.helpers import simple_route


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


def _load(config_dir: Callable[..., Path], account: dict[str, object]) -> None:
    cfg = config_dir(accounts={"x-na": account}, routes=[simple_route("na", ["en-US"], ["x-na"])])
    load_config(cfg, environ=x_environ(FakeX(), refresh_token="r"), check_secrets=False)


def test_an_oauth1_account_needs_its_four_credentials(config_dir: Callable[..., Path], fx: FakeX) -> None:
    # Given an OAuth 1.0a account without its access token secret
    account = x_account(fx)
    account["credentials"].pop("access_token_secret")  # type: ignore[attr-defined]
    # When the config is loaded / Then the missing credential is named
    with pytest.raises(ConfigError, match="needs the credential 'access_token_secret'"):
        _load(config_dir, account)


def test_an_oauth2_account_needs_a_client_id_a_refresh_token_and_a_state_key_only(
        config_dir: Callable[..., Path], fx: FakeX) -> None:
    # Given an OAuth 2 account with a client id, refresh token and state key (no OAuth 1.0a keys) / Then it loads
    _load(config_dir, x_account(fx, auth="oauth2"))
    # And without its refresh token, or the key its stored tokens are sealed with, it does not
    for name in ("refresh_token", "state_key"):
        account = x_account(fx, auth="oauth2")
        account["credentials"].pop(name)  # type: ignore[attr-defined]
        with pytest.raises(ConfigError, match=f"needs the credential '{name}'"):
            _load(config_dir, account)


@pytest.mark.parametrize(("options", "message"), [
    ({"thread_marker": " part {i}"}, "must contain {i}"),
    ({"link_position": "middle"}, "link_position"),
    ({"thread_max_parts": 40}, "thread_max_parts"),
    ({"username": "not a handle!"}, "username"),
    ({"wait_on_rate_limit": True}, "unknown field"),
])
def test_invalid_options_are_refused_at_load(config_dir: Callable[..., Path], fx: FakeX,
                                             options: dict[str, object], message: str) -> None:
    # Given an X account with an invalid option / Then loading the config names it
    with pytest.raises(ConfigError, match=message):
        _load(config_dir, x_account(fx, **options))


def _adapter(**options: object) -> XAdapter:
    ctx = AccountContext(id="x-na", options=XOptions.model_validate(options), credentials=Credentials("x-na", {}))
    return XAdapter(ctx)


def _content(**kw: object) -> PostContent:
    base: dict[str, object] = dict(
        item_id="i", revision=1, locale="en-US", title="Title", summary="Summary.", body="", body_format="markdown",
        link="https://example.com/p?utm_source=x&utm_medium=social", canonical_url="https://example.com/p",
        cta_text="Read", cta_url=None, tags=("one", "two", "three"), published_at=datetime.now(UTC))
    base.update(kw)
    return PostContent(**base)  # type: ignore[arg-type]


def test_render_warns_when_media_cannot_go_and_when_alt_text_is_missing() -> None:
    # Given images without alt text, and a video
    media = (MediaRef("https://example.com/a.png", None), MediaRef("https://example.com/v.mp4", "v", "video"))
    # When rendered for an OAuth 1.0a account / Then the image goes, with warnings for the video and the alt text
    r = _adapter().render(_content(media=media))
    assert r.media == (media[0],)
    assert any("videos not attached" in w for w in r.warnings) and any("no alt text" in w for w in r.warnings)
    # And for an account with media turned off, nothing is attached and it says so
    r = _adapter(media=False).render(_content(media=media))
    assert r.media == () and any("media turned off" in w for w in r.warnings)


def test_render_adds_at_most_max_hashtags_and_none_to_hand_written_text() -> None:
    # Given three tags and max_hashtags 2 / Then two hashtags follow the link
    assert _adapter().render(_content()).text.endswith("\n#One #Two")
    # And hand-written X text is used as written
    r = _adapter().render(_content(channel_text="Written for X #Launch"))
    assert r.text == "Written for X #Launch\n\nRead https://example.com/p?utm_source=x&utm_medium=social"


def test_render_warns_when_x_would_link_only_part_of_the_tagged_link() -> None:
    # Given a tagged link whose path ends in a character X does not end links with
    link = "https://example.com/a~?utm_source=x"
    # When rendered / Then the post says so (X would link https://example.com/a and show the rest as text)
    r = _adapter().render(_content(link=link))
    assert link in r.text
    assert any("X links only https://example.com/a of the tagged link" in w for w in r.warnings)


def test_thread_mode_can_include_the_body_as_plain_text() -> None:
    # Given a Markdown body with a heading, emphasis and a link
    body = "## Every post, measured\n\nSee **which** region [works](https://example.com/docs) best."
    # When rendered as a thread with the body / Then the body is plain text with the link target kept
    r = _adapter(thread=True, include_body=True, hashtag_style="none").render(_content(body=body))
    assert "Every post, measured\n\nSee which region works https://example.com/docs best." in r.text
