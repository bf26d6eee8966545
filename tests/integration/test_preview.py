"""``syndicate preview`` renders with the publishing code: what it shows is what gets posted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from syndicate import Runtime, submit
from syndicate.model.item import load_item_file
from syndicate.operations.preview import preview_item, preview_stored
from syndicate.worker.host import run_until_settled
from tests.helpers import REPO

EXAMPLES = sorted((REPO / "examples" / "content").glob("*.yaml"))


def test_preview_matches_the_published_text_byte_for_byte(tmp_path: Path, outbox: Path) -> None:
    # Given the example config and items
    with Runtime.create(config=REPO / "config", database_url=f"sqlite:///{tmp_path / 'l.db'}", redis_url="") as rt:
        items = [load_item_file(p) for p in EXAMPLES]
        now = rt.ledger.now()
        # When each item is previewed, then published
        previews = {(i.id, p.locale, p.account, p.slot): p for i in items
                    for p in preview_item(rt, i, now=now, ignore_schedule=True)}
        for i in items:
            submit(i, runtime=rt, ignore_schedule=True)
        pubs = run_until_settled(rt, lambda: [p for i in items for p in rt.ledger.publications(item_id=i.id)])
        # Then every published post is exactly the previewed text, and every locale x account was previewed
        published = [p for p in pubs if p.state == "published"]
        assert len(published) >= 24
        for p in published:
            shown = previews[(p.item_id, p.locale, p.account, p.slot)]
            posted = Path(p.permalink.removeprefix("file://")).read_text(encoding="utf-8")  # type: ignore[union-attr]
            assert shown.text == posted
            assert shown.length <= shown.limit
        assert {(k[1], k[2]) for k in previews} == {(p.locale, p.account) for p in pubs}
        skipped = [v for v in previews.values() if v.state == "skipped"]
        assert skipped and all("buying stages" in (v.error or "") for v in skipped)
        # And a stored item previews from the ledger with the same text
        stored = {(p.locale, p.account, p.slot): p.text for p in preview_stored(rt, items[0].id)}
        assert all(stored[(k[1], k[2], k[3])] == v.text for k, v in previews.items()
                   if k[0] == items[0].id and v.state != "skipped")


def test_preview_cli_shows_every_post_with_length_and_json(tmp_path: Path) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")
    launch = str(REPO / "examples" / "content" / "product-launch.yaml")
    out = subprocess.run([sys.executable, "-m", "syndicate", "preview", launch, "--now", "--format",
                          "json"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    posts = json.loads(out.stdout)
    assert {(p["locale"], p["account"]) for p in posts} >= {("en-US", "x-na"), ("de-DE", "x-dach"),
                                                            ("ja-JP", "linkedin-jp"), ("fr-FR", "partner-fr")}
    assert all(p["length"] <= p["limit"] for p in posts if p["state"] == "scheduled")
    assert not (tmp_path / "syndicate.db").exists()  # a file preview stores nothing
    text = subprocess.run([sys.executable, "-m", "syndicate", "preview", launch, "--locale", "de-DE",
                           "--channel", "x-dach"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert text.returncode == 0
    assert text.stdout.startswith("== de-DE · x-dach (sandbox as x) · slot 0 · ")
    assert "/280 · text · link https://example.com/" in text.stdout
