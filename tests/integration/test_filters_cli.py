"""Filters that name what does not exist are errors listing what does; filters that match nothing say so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from tests.helpers import item_data, sandbox_accounts, simple_route


@pytest.fixture
def cfg(config_dir: Callable[..., Path]) -> Path:
    return config_dir(accounts=sandbox_accounts("a1", "a2"),
                      routes=[simple_route("na", ["en-US"], ["a1", "a2"]),
                              simple_route("dach", ["de-DE"], ["a1"], translation={"engine": "pseudo"})])


@pytest.fixture
def cli(tmp_path: Path, cfg: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    monkeypatch.setenv("SYNDICATE_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.setenv("SYNDICATE_CONFIG", str(cfg))
    monkeypatch.delenv("SYNDICATE_REDIS_URL", raising=False)

    def invoke(*args: str) -> Result:
        from syndicate.cli import main

        return CliRunner().invoke(main, list(args))

    return invoke


@pytest.fixture
def item(tmp_path: Path, cli: Callable[..., Result]) -> str:
    """An item submitted for a worker (nothing published yet): item-1 in en-US on a1, a2 and de-DE on a1."""
    path = tmp_path / "item.yaml"
    path.write_text(yaml.safe_dump(item_data()), encoding="utf-8")
    assert cli("enqueue", str(path)).exit_code == 0
    return str(path)


def test_report_refuses_an_unknown_state_campaign_or_item_listing_the_valid_ones(
    cli: Callable[..., Result], item: str
) -> None:
    state = cli("report", "--state", "failled")
    assert state.exit_code == 2
    assert "'failled' is not one of 'awaiting_review', 'scheduled'," in state.stderr
    campaign = cli("report", "--campaign", "nope")
    assert campaign.exit_code == 2
    assert "error: unknown campaign 'nope' (campaigns in the ledger: test-campaign)" in campaign.stderr
    item_ = cli("report", "--item", "itme-1")
    assert item_.exit_code == 2
    assert "unknown item 'itme-1'; did you mean 'item-1'? (items in the ledger: item-1)" in item_.stderr


def test_report_says_when_a_valid_filter_matches_nothing(cli: Callable[..., Result], item: str) -> None:
    out = cli("report", "--state", "failed", "--state", "unconfirmed", "--campaign", "test-campaign")
    assert out.exit_code == 0
    assert out.stderr == "no publications match campaign 'test-campaign', state failed or unconfirmed\n"
    assert out.stdout.startswith("item_id,revision,")  # the CSV header, and no row
    assert out.stdout.count("\n") == 1


def test_status_refuses_a_revision_the_item_does_not_have(cli: Callable[..., Result], item: str) -> None:
    out = cli("status", "item-1", "--revision", "4")
    assert out.exit_code == 2
    assert "unknown revision '4' (revisions of item 'item-1': 1)" in out.stderr


def test_cancel_refuses_an_account_or_locale_the_item_has_no_publication_for(
    cli: Callable[..., Result], item: str
) -> None:
    account = cli("cancel", "item-1", "--account", "nope")
    assert account.exit_code == 2
    assert "unknown account 'nope' (accounts of item 'item-1' revision 1: a1, a2)" in account.stderr
    locale = cli("cancel", "item-1", "--locale", "es-MX")
    assert locale.exit_code == 2
    assert "unknown locale 'es-MX' (locales of item 'item-1' revision 1: de-DE, en-US)" in locale.stderr
    posix = cli("cancel", "item-1", "--locale", "en_US")
    assert posix.exit_code == 2 and "did you mean 'en-US'?" in posix.stderr
    # And nothing was cancelled by the refused commands
    assert cli("status", "item-1").stdout.count(" scheduled ") == 3


def test_cancel_says_when_nothing_was_left_to_cancel(cli: Callable[..., Result], item: str) -> None:
    first = cli("cancel", "item-1", "--locale", "en-us")
    assert first.exit_code == 0 and "(locale en-US): cancelled 2 publication(s)" in first.stdout
    again = cli("cancel", "item-1", "--locale", "en-US")
    assert again.exit_code == 0
    assert ("nothing left to cancel (locale en-US): every publication has gone out, failed, or was cancelled or "
            "skipped before") in again.stdout


def test_replay_refuses_an_unknown_account_or_item_and_says_when_nothing_matched(
    cli: Callable[..., Result], item: str
) -> None:
    account = cli("replay", "--account", "a3")
    assert account.exit_code == 2
    assert "unknown account 'a3' (accounts in accounts.yaml or the ledger: a1, a2)" in account.stderr
    unknown_item = cli("replay", "--item", "item-9")
    assert unknown_item.exit_code == 2 and "unknown item 'item-9'" in unknown_item.stderr
    none = cli("replay", "--account", "a1")
    assert none.exit_code == 0
    assert "no failed publications match account 'a1'" in none.stdout


def test_preview_refuses_a_locale_or_channel_no_route_has(cli: Callable[..., Result], item: str) -> None:
    locale = cli("preview", item, "--locale", "es-MX")
    assert locale.exit_code == 2
    assert "unknown locale 'es-MX' (locales in the routes: de-DE, en-US)" in locale.stderr
    assert "nothing was submitted" not in locale.stderr
    channel = cli("preview", item, "--channel", "x")
    assert channel.exit_code == 2
    assert "unknown channel 'x' (channels in the routes: a1, a2, sandbox)" in channel.stderr
    stored = cli("preview", "item-1", "--locale", "fr-FR")
    assert stored.exit_code == 2
    assert "unknown locale 'fr-FR' (locales of item 'item-1': de-DE, en-US)" in stored.stderr


def test_preview_says_when_a_valid_filter_matches_no_post(cli: Callable[..., Result], tmp_path: Path) -> None:
    # Given an item for en-US only
    path = tmp_path / "english.yaml"
    path.write_text(yaml.safe_dump(item_data(locales=["en-US"])), encoding="utf-8")
    # When its German posts are previewed / Then it says there are none, without an error
    out = cli("preview", str(path), "--locale", "de-DE")
    assert out.exit_code == 0
    assert out.stderr == "no posts match locale de-DE\n"


def test_accounts_reset_refuses_an_unknown_account(cli: Callable[..., Result]) -> None:
    out = cli("accounts", "reset", "a-1")
    assert out.exit_code == 2
    assert "unknown account 'a-1'; did you mean 'a1'? (accounts in accounts.yaml: a1, a2)" in out.stderr
