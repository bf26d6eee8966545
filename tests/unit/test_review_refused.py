"""What ``syndicate review`` shows of a localization held because both strategies failed: the
engine's refused answer next to the source, never raw control characters, and the ways forward."""

from __future__ import annotations

from syndicate.localization.review import Review, ReviewField, format_review


def held(**refused: str) -> Review:
    fields = (ReviewField("title", "Start your free trial", "", "?", None, refused.get("title")),
              ReviewField("body", "Read https://example.com/x now", "", "?", None, refused.get("body")))
    return Review("launch-1", 1, "fr-FR", "en-US", "failed", None, fields, (),
                  "localization failed: the translation of title lost ['free trial']", (), False, dict(refused))


def test_a_refused_answer_is_shown_next_to_its_source_with_the_ways_forward() -> None:
    text = format_review(held(title='COMMENCEZ VOTRE <x íd="0"/>'))
    assert "== title [refused]" in text and 'COMMENCEZ VOTRE <x íd="0"/>' in text
    assert "the engine's answer, not published" in text
    assert "overrides.locales.fr-FR" in text and "syndicate replay --item launch-1 --localizations" in text
    # a field without a refused answer is shown as it was
    assert "== body [?]" in text


def test_an_answer_for_all_fields_joined_is_shown_once_after_the_fields() -> None:
    text = format_review(held(**{"*": 'TITLE\n\n<x id="b1"/> BODY'}))
    assert "the engine's answer for all fields, joined (refused, not published)" in text
    assert 'TITLE' in text and '<x id="b1"/> BODY' in text


def test_control_characters_in_an_engines_answer_never_reach_the_terminal() -> None:
    # Given an answer holding a right-to-left override and an escape sequence
    text = format_review(held(title="COMMENCEZ \u202e\x1b[31mVOTRE"))
    # Then they are shown as their code points
    assert "\u202e" not in text and "\x1b" not in text
    assert "<U+202E>" in text and "<U+001B>" in text


def test_a_split_field_is_marked_in_pieces() -> None:
    review = Review("launch-1", 1, "fr-FR", "en-US", "done", "deepl",
                    (ReviewField("body", "Read @x now", "LISEZ @x MAINTENANT", "machine", "split"),
                     ReviewField("title", "Hello", "BONJOUR", "machine", "placeholders")),
                    (), None, (), False)
    text = format_review(review)
    assert "== body [machine, in pieces]" in text and "== title [machine]" in text
