"""The redirect app's in-memory parts: who counts as a bot, the click buffer, and the codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syndicate.ledger.links import CODE_ALPHABET, CODE_LENGTH, new_code
from syndicate.operations.clicks import ClickBuffer, is_bot

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/126.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"


@pytest.mark.parametrize("agent", [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "",
    "   ",
])
def test_crawlers_previewers_and_scripts_are_bots(agent: str) -> None:
    assert is_bot("GET", agent)


@pytest.mark.parametrize("agent", [CHROME, IPHONE, FIREFOX])
def test_browsers_are_people_but_not_when_they_ask_for_the_head_only(agent: str) -> None:
    assert not is_bot("GET", agent)
    assert is_bot("HEAD", agent)


def test_no_user_agent_is_a_bot() -> None:
    assert is_bot("GET", None)


def test_the_raw_header_value_is_read_as_the_text_is() -> None:
    assert is_bot("GET", b"Twitterbot/1.0") and not is_bot("GET", CHROME.encode("latin-1"))


def test_the_buffer_counts_per_publication_and_hour_people_and_bots_apart() -> None:
    # Given clicks on two publications, across an hour boundary
    buf = ClickBuffer()
    nine = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()
    for t, pid, bot in [(nine + 1, 1, False), (nine + 3599, 1, False), (nine + 10, 1, True), (nine + 3600, 1, False),
                        (nine + 5, 2, True)]:
        buf.record(pid, t, bot)
    # When the writer takes them / Then they are grouped by publication and hour, and the buffer is empty
    taken = buf.take()
    assert taken == {
        (1, datetime(2026, 3, 2, 9, tzinfo=UTC)): (2, 1),
        (1, datetime(2026, 3, 2, 10, tzinfo=UTC)): (1, 0),
        (2, datetime(2026, 3, 2, 9, tzinfo=UTC)): (0, 1),
    }
    assert len(buf) == 0 and buf.take() == {}
    # And counts put back after a failed write add to the clicks counted meanwhile
    buf.record(1, nine + 20, False)
    buf.put_back(taken)
    again = buf.take()
    assert again[(1, datetime(2026, 3, 2, 9, tzinfo=UTC))] == (3, 1) and len(again) == 3


def test_a_full_buffer_drops_counts_of_new_pairs_but_keeps_counting_the_ones_it_holds() -> None:
    buf = ClickBuffer(max_keys=2)
    t = datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp()
    buf.record(1, t, False)
    buf.record(2, t, False)
    buf.record(3, t, False)   # a third pair: not counted
    buf.record(1, t, True)    # a pair it holds: counted
    assert buf.dropped == 1
    assert buf.take() == {(1, datetime(2026, 3, 2, 9, tzinfo=UTC)): (1, 1),
                          (2, datetime(2026, 3, 2, 9, tzinfo=UTC)): (1, 0)}


def test_codes_are_long_random_letters_and_digits() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == CODE_LENGTH >= 6 and set(c) <= set(CODE_ALPHABET) for c in codes)
    # Each position takes every kind of character (not a counter or a timestamp)
    assert {c[0] for c in codes} & set("0123456789") and {c[0] for c in codes} & set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
