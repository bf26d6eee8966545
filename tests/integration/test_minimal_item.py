"""A minimal item (no summary, CTA, tags or media) through the whole pipeline: every channel that
shows a summary gets a teaser from the (localized) body, localization and the review gate cope
with the absent field, previews and evergreen reposts too."""

# The XML parsed here is the feed we just wrote, parsed with the stdlib as a feed reader would.
# ruff: noqa: S314

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import Runtime, approve_review, show_review, submit
from syndicate.intake.planning import evergreen_text
from syndicate.model.item import parse_item
from syndicate.operations.preview import preview_item
from syndicate.worker.host import run_until_settled
from tests.helpers import item_data, simple_route
from tests.reliability.safety import render_config, render_everywhere, unsafe

ATOM = "{http://www.w3.org/2005/Atom}"
BODY = ("Northwind cut its time to publish from days to minutes. Every post now carries its campaign. "
        "Here is how the team did it, " + "region by region, " * 20 + "with one approved story.\n\nThe end.")
TEASER = "Northwind cut its time to publish from days to minutes. Every post now carries its campaign."


def minimal(**over: Any) -> dict[str, Any]:
    return item_data(id="minimal", summary=None, cta=None, tags=None, body=BODY, **over)


@pytest.fixture
def rt(config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, tmp_path: Path) -> Iterator[Runtime]:
    cfg = config_dir(
        accounts={"social": {"adapter": "sandbox"},
                  "partner": {"adapter": "feeds", "options": {"directory": str(tmp_path / "feeds")}}},
        routes=[simple_route("na", ["en-US"], ["social", "partner"]),
                simple_route("dach", ["de-DE"], ["social", "partner"],
                             translation={"engine": "pseudo", "review_required": True})])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as runtime:
        yield runtime


def settle(rt: Runtime) -> list[Any]:
    return run_until_settled(rt, lambda: rt.ledger.publications(item_id="minimal"), threads=2,
                             timeout=timedelta(seconds=60))


def test_a_minimal_item_is_published_with_a_teaser_from_its_body(rt: Runtime, outbox: Path, tmp_path: Path) -> None:
    # Given a minimal item and two routes, one machine-translated behind the review gate
    submit(minimal(), runtime=rt, ignore_schedule=True)
    # When the worker runs
    pubs = settle(rt)
    # Then English went out at once, German waits for review
    assert sorted((p.locale, p.account, p.state) for p in pubs) == [
        ("de-DE", "partner", "awaiting_review"), ("de-DE", "social", "awaiting_review"),
        ("en-US", "partner", "published"), ("en-US", "social", "published")]
    # and the social post leads with the title and the first sentences of the body
    post = (outbox / "social" / "minimal" / "r1.en-US.0.txt").read_text(encoding="utf-8")
    assert post.startswith(f"A title\n\n{TEASER}\n")
    # and the feed entry's summary is that teaser
    entry = ET.fromstring((tmp_path / "feeds" / "partner" / "en-US.atom").read_bytes()).find(f"{ATOM}entry")
    assert entry is not None and entry.findtext(f"{ATOM}summary") == TEASER
    # And the review shows the fields that exist, without a summary
    review = show_review(rt.ledger, "minimal", "de-DE")
    assert [f.name for f in review.fields] == ["title", "body"]
    # When the German localization is approved / Then its posts carry a teaser from the German body
    approve_review(rt.ledger, "minimal", "de-DE", by="reviewer@example.com")
    pubs = settle(rt)
    assert {p.state for p in pubs} == {"published"}
    german = (outbox / "social" / "minimal" / "r1.de-DE.0.txt").read_text(encoding="utf-8")
    localized = rt.ledger.localization("minimal", 1, "de-DE")
    assert localized is not None and "summary" not in localized["fields"]
    german_body = localized["fields"]["body"]
    assert german_body != BODY
    first = german_body.split(". ")[0]
    assert first in german and BODY.split(". ")[0] not in german


def test_preview_and_every_channel_render_a_minimal_item(rt: Runtime, tmp_path: Path) -> None:
    # Given a minimal item / When it is previewed and rendered by every adapter
    item = parse_item(minimal())
    posts = preview_item(rt, item, now=rt.ledger.now(), ignore_schedule=True)
    rendered = list(render_everywhere(render_config(tmp_path / "render"), item))
    # Then every post renders, safely, and the sandbox preview shows the teaser
    assert all(p.error is None for p in posts), [p.error for p in posts]
    assert any(TEASER in p.text for p in posts if p.account == "social" and p.locale == "en-US")
    assert all(r.rendered is not None for r in rendered), [r.error for r in rendered]
    assert {r.account: unsafe(r) for r in rendered if unsafe(r)} == {}
    # and the LinkedIn link card and the WordPress excerpt describe the item with the teaser
    by_account = {r.account: r.rendered for r in rendered}
    linkedin, wordpress = by_account["li-a"], by_account["blog-a"]
    assert linkedin is not None and TEASER in str(linkedin.extra)
    assert wordpress is not None and TEASER in str(wordpress.extra)


def test_evergreen_reposts_of_a_minimal_item_differ_without_a_summary(rt: Runtime, outbox: Path) -> None:
    # Given a minimal evergreen item planned now, with reposts whose times have not come
    submit(minimal(locales=["en-US"], repeat={"interval": "1d", "count": 2}), runtime=rt, ignore_schedule=True)
    pubs = settle(rt)
    # Then the first post went out, and the repost texts are distinct and never say "None"
    item = parse_item(minimal(locales=["en-US"], repeat={"interval": "1d", "count": 2}))
    texts = [evergreen_text(item, {}, "en-US", slot, None) for slot in range(3)]
    assert texts[0] == (None, None)
    assert texts[1][1] and texts[2][1] and texts[1] != texts[2]
    assert all("None" not in (t[1] or "") for t in texts)
    assert TEASER in (texts[1][1] or "") + (texts[2][1] or "")
    assert any(p.slot == 0 and p.state == "published" for p in pubs)
