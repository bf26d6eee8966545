"""``syndicate serve-feeds``: the testing file server answers feeds with their content types."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO


@pytest.fixture
def feed_dir(tmp_path: Path) -> Path:
    base = tmp_path / "feeds" / "partner-a"
    base.mkdir(parents=True)
    (base / "en-US.atom").write_bytes(b"<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns='http://www.w3.org/2005/Atom'/>")
    (base / "en-US.rss").write_bytes(b"<?xml version='1.0' encoding='UTF-8'?>\n<rss version='2.0'><channel/></rss>")
    return tmp_path / "feeds"


@pytest.fixture
def server(feed_dir: Path) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "syndicate", "serve-feeds", "--directory", str(feed_dir),
                             "--port", "0"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving "), line
        url = line.split(" at ", 1)[1].split(" ", 1)[0].rstrip("/")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def test_serve_feeds_answers_atom_and_rss_with_their_content_types(server: str, feed_dir: Path) -> None:
    # Given the server on a directory with one partner's feeds
    # When both feeds are fetched
    atom = _get(f"{server}/partner-a/en-US.atom")
    rss = _get(f"{server}/partner-a/en-US.rss")
    # Then each comes with its feed type and the file's bytes
    assert atom == (200, "application/atom+xml; charset=utf-8", (feed_dir / "partner-a/en-US.atom").read_bytes())
    assert rss == (200, "application/rss+xml; charset=utf-8", (feed_dir / "partner-a/en-US.rss").read_bytes())


def test_serve_feeds_answers_404_for_a_missing_feed(server: str) -> None:
    # Given the server, When a feed that does not exist is fetched, Then it is 404
    assert _get(f"{server}/partner-a/fr-FR.atom")[0] == 404


def test_serve_feeds_help_says_it_is_for_testing_only() -> None:
    # Given the command line, When asked for help, Then it says the server is not for production
    out = subprocess.run([sys.executable, "-m", "syndicate", "serve-feeds", "--help"], cwd=REPO, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert "Not for production" in out and "application/atom+xml" in out
