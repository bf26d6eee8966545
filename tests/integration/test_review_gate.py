"""The review gate: machine-made publications wait in awaiting_review until a reviewer approves or
rejects them, through the Python API or the command line; the ledger records who and why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syndicate import ContentError, Runtime, approve_review, reject_review, show_review, submit
from syndicate.cli import main
from syndicate.localization.review import format_review
from syndicate.worker.host import run_until_settled
from tests.fakes.deepl import FakeDeepL
from tests.helpers import item_data, sandbox_accounts, simple_route


def review_route(**translation: Any) -> dict[str, Any]:
    return simple_route("dach", ["de-DE"], ["a-de"], timezone="Europe/Berlin",
                        translation={"engine": "pseudo", "review_required": True, **translation})


@pytest.fixture
def cfg(config_dir: Callable[..., Path]) -> Path:
    return config_dir(accounts=sandbox_accounts("a-de", "a-us"),
                      routes=[review_route(), simple_route("na", ["en-US"], ["a-us"])])


@pytest.fixture
def rt(cfg: Path, sqlite_url: str, outbox: Path) -> Iterator[Runtime]:
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as runtime:
        yield runtime


def settle(rt: Runtime, item_id: str = "item-1") -> dict[str, Any]:
    pubs = run_until_settled(rt, lambda: rt.ledger.publications(item_id=item_id), threads=2,
                             timeout=timedelta(seconds=30))
    return {f"{p.locale}/r{p.revision}": p for p in pubs}


def test_machine_output_waits_for_review_and_the_rest_is_published(rt: Runtime) -> None:
    # Given a German route that requires review and an English route that does not
    submit(item_data(overrides={"locales": {"de-DE": {"title": "Ein Titel"}}}), runtime=rt, ignore_schedule=True)
    # When the worker runs
    pubs = settle(rt)
    # Then German waits, English is published, and the review shows each field with its origin
    assert pubs["de-DE/r1"].state == "awaiting_review" and pubs["en-US/r1"].state == "published"
    review = show_review(rt.ledger, "item-1", "de-DE")
    assert [(f.name, f.kind) for f in review.fields] == [
        ("title", "human"), ("summary", "machine"), ("body", "machine"), ("cta_text", "machine")]
    assert review.fields[0].source == "A title" and review.fields[0].localized == "Ein Titel"
    assert review.engine == "pseudo" and [p.account for p in review.awaiting] == ["a-de"]


def test_approving_releases_the_publications_and_records_the_reviewer(rt: Runtime) -> None:
    # Given a German publication awaiting review
    submit(item_data(), runtime=rt, ignore_schedule=True)
    settle(rt)
    # When Anna approves it and the worker runs again
    moved = approve_review(rt.ledger, "item-1", "de-DE", by="anna")
    pubs = settle(rt)
    # Then it was released and published, and the ledger says Anna approved it
    assert [p.state for p in moved] == ["scheduled"] and moved[0].ready
    assert pubs["de-DE/r1"].state == "published"
    events = rt.ledger.events(publication_id=moved[0].id)
    approved = [e for e in events if e["kind"] == "approved"]
    assert approved[0]["actor"] == "reviewer:anna" and approved[0]["from_state"] == "awaiting_review"
    summary = [e for e in rt.ledger.events(item_id="item-1") if e["kind"] == "review.approved"]
    assert summary[0]["detail"]["reviewer"] == "anna" and summary[0]["detail"]["locale"] == "de-DE"


def test_rejecting_cancels_the_publications_with_the_reason(rt: Runtime) -> None:
    # Given a German publication awaiting review
    submit(item_data(), runtime=rt, ignore_schedule=True)
    settle(rt)
    # When Ben rejects it
    moved = reject_review(rt.ledger, "item-1", "de-DE", by="ben", reason="The CTA reads oddly in German")
    # Then it is cancelled with the reason and the reviewer, and nothing is published for German
    assert [p.state for p in moved] == ["cancelled"]
    assert moved[0].last_error == "rejected in review by ben: The CTA reads oddly in German"
    rejected = [e for e in rt.ledger.events(publication_id=moved[0].id) if e["kind"] == "rejected"]
    assert rejected[0]["actor"] == "reviewer:ben" and rejected[0]["detail"]["reason"] == "The CTA reads oddly in German"
    assert settle(rt)["de-DE/r1"].state == "cancelled"


def test_a_decision_needs_a_reviewer_and_a_rejection_a_reason(rt: Runtime) -> None:
    submit(item_data(), runtime=rt, ignore_schedule=True)
    settle(rt)
    with pytest.raises(ContentError, match="say who decides"):
        approve_review(rt.ledger, "item-1", "de-DE", by=" ")
    with pytest.raises(ContentError, match="needs a reason"):
        reject_review(rt.ledger, "item-1", "de-DE", by="ben", reason="")
    with pytest.raises(ContentError, match="did you mean 'de-DE'"):
        show_review(rt.ledger, "item-1", "de_DE")
    assert show_review(rt.ledger, "item-1", "de-DE").awaiting  # still waiting


def test_a_complete_human_translation_is_not_held(rt: Runtime) -> None:
    # Given every field translated by a human / Then review is not needed and it is published
    fields = {"title": "T", "summary": "S", "body": "B", "cta_text": "C"}
    submit(item_data(overrides={"locales": {"de-DE": fields}}), runtime=rt, ignore_schedule=True)
    assert settle(rt)["de-DE/r1"].state == "published"


def test_cached_machine_text_is_reviewed_too(config_dir: Callable[..., Path], sqlite_url: str, outbox: Path) -> None:
    # Given a DeepL review route, and revision 1 approved and published
    with FakeDeepL("k-review:fx") as deepl:
        d = config_dir(accounts=sandbox_accounts("a-de"), routes=[review_route(engine="deepl")],
                       settings={"translation": {"engines": {"deepl": {"engine": "deepl", "options": {
                           "auth_key": "${DEEPL_AUTH_KEY}", "server_url": deepl.url}}}}})
        with Runtime.create(config=d, database_url=sqlite_url, redis_url="",
                            environ={"DEEPL_AUTH_KEY": "k-review:fx"}) as rt:
            submit(item_data(), runtime=rt, ignore_schedule=True)
            settle(rt)
            approve_review(rt.ledger, "item-1", "de-DE", by="anna")
            settle(rt)
            # When revision 2 changes only the tags, so its German text comes from the cache
            submit(item_data(revision=2, tags=["testing", "news"]), runtime=rt, ignore_schedule=True)
            pubs = settle(rt)
            review = show_review(rt.ledger, "item-1", "de-DE")
        requests = len(deepl.translate_requests())
    # Then it waits for review again: cached text is still machine text
    assert requests == 1
    assert pubs["de-DE/r1"].state == "published" and pubs["de-DE/r2"].state == "awaiting_review"
    assert review.revision == 2 and {f.kind for f in review.fields} == {"cache"}


def test_a_fallback_to_the_source_text_is_held_for_review(config_dir: Callable[..., Path], sqlite_url: str,
                                                          outbox: Path) -> None:
    # Given a review route whose engine cannot work (its key variable is unset) and falls back to the source
    d = config_dir(accounts=sandbox_accounts("a-de"), routes=[review_route(engine="deepl", fallback="source")],
                   settings={"translation": {"engines": {"deepl": {"engine": "deepl", "options": {
                       "auth_key": "${DEEPL_AUTH_KEY}", "server_url": "http://127.0.0.1:9"}}}}})
    with Runtime.create(config=d, database_url=sqlite_url, redis_url="", environ={}) as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        pubs = settle(rt)
        review = show_review(rt.ledger, "item-1", "de-DE")
    # Then the untranslated text waits for a reviewer, who sees why
    assert pubs["de-DE/r1"].state == "awaiting_review"
    assert {f.kind for f in review.fields} == {"source"}
    assert any("DEEPL_AUTH_KEY" in w and "publishes the source text" in w for w in review.warnings)


def test_the_review_text_shows_source_and_translation_side_by_side(rt: Runtime) -> None:
    # Given a German localization with a long body
    submit(item_data(body="Paragraph one is long enough to wrap across several lines of the narrow view.\n\n"
                          "Paragraph two."), runtime=rt, ignore_schedule=True)
    settle(rt)
    # When formatted for an 80-column terminal
    text = format_review(show_review(rt.ledger, "item-1", "de-DE"), width=80)
    lines = text.splitlines()
    # Then each field has a header with its kind, both columns are separated, and no line is too wide
    assert "== title [machine]" in text and "en-US" in text and "syndicate approve item-1 --locale de-DE" in text
    assert any(line.startswith("A title") and " | [À ŧíŧĺé" in line for line in lines)
    assert all(len(line) <= 80 for line in lines if " | " in line)


def test_the_command_line_reviews_approves_and_rejects(cfg: Path, sqlite_url: str, outbox: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two items awaiting review in German
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        submit(item_data(id="item-2"), runtime=rt, ignore_schedule=True)
        settle(rt)
        settle(rt, "item-2")
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", sqlite_url)
    cli = CliRunner()
    # When a reviewer looks, approves one and rejects the other
    shown = cli.invoke(main, ["review", "item-1", "--locale", "de-DE", "--config", str(cfg)])
    approved = cli.invoke(main, ["approve", "item-1", "--locale", "de-DE", "--by", "anna", "--config", str(cfg)])
    again = cli.invoke(main, ["approve", "item-1", "--locale", "de-DE", "--by", "anna", "--config", str(cfg)])
    rejected = cli.invoke(main, ["reject", "item-2", "--locale", "de-DE", "--reason", "off-brand", "--by", "ben",
                                 "--config", str(cfg)])
    as_json = cli.invoke(main, ["review", "item-2", "--locale", "de-DE", "--format", "json", "--config", str(cfg)])
    # Then each command says what it did, and a second approval finds nothing to do
    assert shown.exit_code == 0 and "== summary [machine]" in shown.output and "await review" in shown.output
    assert approved.exit_code == 0 and "approved 1 publication(s) of item-1 in de-DE: a-de" in approved.output
    assert again.exit_code == 1 and "nothing awaits review" in again.output
    assert rejected.exit_code == 0 and "rejected 1 publication(s)" in rejected.output
    assert as_json.exit_code == 0 and '"state": "cancelled"' in as_json.output and '"kind": "machine"' in as_json.output
