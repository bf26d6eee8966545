"""The README's example run, checked for attribution: every example item goes out, and each post
links with exactly the tagged URL the report shows for it."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from syndicate.model.item import load_item_file
from tests.helpers import REPO

EXAMPLES = sorted((REPO / "examples" / "content").glob("*.yaml"))
#: Every link to the example site in a post.
OUR_LINKS = re.compile(r"https://example\.com/[^\s<>\"')]*")
HREF = re.compile(r'href="([^"]*)"')


def syndicate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    return subprocess.run([sys.executable, "-m", "syndicate", *args, "--config", str(REPO / "config")], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_example_run_links_every_post_with_the_tagged_url_the_report_shows(tmp_path: Path) -> None:
    # When the example items are run in an empty directory with the example config
    run = syndicate("run", "--now", *map(str, EXAMPLES), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    report = syndicate("report", "--format", "json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)
    published = [r for r in rows if r["state"] == "published"]
    # Then every example item went out
    assert {r["item_id"] for r in published} == {load_item_file(p).id for p in EXAMPLES}
    for r in published:
        post = Path(r["permalink"].removeprefix("file://"))
        meta = json.loads(post.with_suffix(".json").read_text(encoding="utf-8"))
        text = post.read_text(encoding="utf-8")
        if meta["format"] == "html":  # a stand-in for a blog writes HTML: its links are the href values
            text = " ".join(html.unescape(href) for href in HREF.findall(text))
        # and each post's link is the report's tagged URL, which a social post carries in its text (an
        # article's link is its entry's or page's own link, beside the text)
        assert meta["link"] == meta["tagged_url"] == r["tagged_url"]
        assert meta["format"] == "html" or r["tagged_url"] in text
        assert f"utm_content={r['utm_content']}" in r["tagged_url"]
        # and every other link to our site in the post (CTA, links in the body) carries the same tag
        links = OUR_LINKS.findall(text)
        assert links and all(f"utm_content={r['utm_content']}" in link for link in links), (post, links)
    # And each utm_content value names one post
    values = [r["utm_content"] for r in rows]
    assert len(values) == len(set(values))
