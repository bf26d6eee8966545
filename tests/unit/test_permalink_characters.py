"""A permalink's characters are checked per Unicode category; the ASCII case takes a shortcut that
must refuse and keep exactly the same characters."""

from __future__ import annotations

from syndicate.publishing.receipts import permalink_problem

HIDDEN = "it contains whitespace, control or invisible characters"


def test_every_ascii_control_and_the_space_are_refused_and_every_other_ascii_character_kept() -> None:
    # Given a permalink with each ASCII character in turn, and one with a non-ASCII space
    for code in range(128):
        link = f"https://board.example/p/1{chr(code)}x"
        refused = permalink_problem(link, {"https"}) == HIDDEN
        # Then controls (0-31, 127) and the space are refused, the rest are not refused for it
        assert refused == (code < 32 or code == 127 or code == 32), code
    assert permalink_problem("https://board.example/p/1\u00a0x", {"https"}) == HIDDEN
    assert permalink_problem("https://board.example/p/\u00e9t\u00e9", {"https"}) is None
