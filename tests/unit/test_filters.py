"""Filter values: unknown ones name the valid ones, with a hint; empty matches are put in words."""

from __future__ import annotations

import pytest

from syndicate.errors import ContentError, InvalidFilter
from syndicate.ledger.filters import STATES, check_choice, check_locale, check_states, listing, nothing_matched


def test_an_unknown_value_lists_the_valid_ones_and_suggests_the_closest() -> None:
    with pytest.raises(InvalidFilter) as err:
        check_states(["failled"])
    assert str(err.value).startswith("unknown state 'failled'; did you mean 'failed'? (states: awaiting_review, ")
    assert err.value.field == "state" and err.value.valid == STATES
    assert isinstance(err.value, ContentError)  # exit 2 on the command line, like other invalid input


def test_a_value_differing_only_in_case_is_suggested() -> None:
    with pytest.raises(InvalidFilter, match="did you mean 'X-NA'"):
        check_choice("account", "x-na", ["X-NA", "blog"])


def test_a_known_value_passes_through() -> None:
    assert check_choice("account", "blog", ["blog"]) == "blog"
    assert check_states(["failed", "unconfirmed"]) == ["failed", "unconfirmed"]


def test_a_locale_is_compared_in_its_canonical_form() -> None:
    assert check_locale("de-de", ["de-DE"]) == "de-DE"
    with pytest.raises(InvalidFilter, match=r"invalid locale 'de_DE': .*did you mean 'de-DE'"):
        check_locale("de_DE", ["de-DE"])
    with pytest.raises(InvalidFilter, match=r"unknown locale 'es-MX' \(locales of x: de-DE\)"):
        check_locale("es-MX", ["de-DE"], where="of x")


def test_long_lists_are_cut_and_counted() -> None:
    assert listing(range(25), limit=3) == "0, 1, 2 and 22 more"
    assert listing([]) == "none"


def test_nothing_matched_names_every_filter_given() -> None:
    assert nothing_matched("publications", {"campaign": "spring", "state": ("failed", "unconfirmed"), "item": None}
                           ) == "no publications match campaign 'spring', state failed or unconfirmed"
    assert nothing_matched("publications", {"campaign": None}) == "no publications yet"
