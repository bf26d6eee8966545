"""One item's image on every channel that takes images, through the embedded worker: X, LinkedIn,
WordPress and a partner feed each get it with its alt text, and it is fetched from its host once."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from syndicate import Runtime, submit
from syndicate.worker.host import run_until_settled
from tests.fakes.images import PNG, FakeImageHost
from tests.fakes.linkedin import FakeLinkedIn, TokenGrant
from tests.fakes.wordpress import FakeWordPress, WpUser
from tests.fakes.x import FakeX, x_account, x_environ
from tests.helpers import item_data, simple_route

AUTHOR = "urn:li:organization:2414183"
TOKEN = "AQV-li-everywhere-token"
WP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
MEDIA = "{http://search.yahoo.com/mrss/}"


def test_one_image_reaches_every_channel_with_its_alt_text_and_is_fetched_once(
    config_dir: Callable[..., Path], sqlite_url: str, tmp_path: Path, loopback_fetches: None
) -> None:
    alt = "Pipeline by region, Q3 2026"
    with (FakeImageHost() as host, FakeX() as fx, FakeLinkedIn({TOKEN: TokenGrant({AUTHOR})}) as li,
          FakeWordPress({"editor": WpUser(WP_PASSWORD)}) as wp):
        wp.add_term("tags", "testing")
        url = host.serve("chart.png", PNG)
        # Given one route to X, LinkedIn (image posts), WordPress (uploads) and a feed (enclosures)
        accounts = {
            "x-na": x_account(fx, username="example", reconcile_settle_s=0),
            "li": {"adapter": "linkedin", "base_url": li.url, "credentials": {"access_token": "${LI_TOKEN}"},
                   "options": {"author": AUTHOR, "share_as": "image"}},
            "blog": {"adapter": "wordpress", "base_url": wp.url,
                     "credentials": {"username": "${WP_USER}", "app_password": "${WP_PASS}"},
                     "options": {"upload_media": True}},
            "partner": {"adapter": "feeds", "options": {"directory": str(tmp_path / "feeds"), "enclosures": True}},
        }
        cfg = config_dir(accounts=accounts, routes=[simple_route("na", ["en-US"], list(accounts))])
        environ = {**x_environ(fx), "LI_TOKEN": TOKEN, "WP_USER": "editor", "WP_PASS": WP_PASSWORD}
        with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ=environ) as rt:
            # When an item with one image goes out through the embedded worker (4 threads)
            submit(item_data(media=[{"url": url, "alt": alt}]), runtime=rt, ignore_schedule=True)
            pubs = run_until_settled(rt, rt.ledger.publications, threads=4, timeout=timedelta(seconds=60))
        # Then every publication is published
        assert sorted((p.account, p.state) for p in pubs) == [
            ("blog", "published"), ("li", "published"), ("partner", "published"), ("x-na", "published")]
        # And each channel has the image with its alt text
        [tweet] = fx.posts
        assert len(tweet.media_ids) == 1 and fx.media[tweet.media_ids[0]]["alt"] == alt
        [post] = li.created()
        assert li.images[post["content"]["media"]["id"]].data == PNG and post["content"]["media"]["altText"] == alt
        [media] = wp.media.values()
        assert media["data"] == PNG and media["alt_text"] == alt
        assert next(iter(wp.posts.values()))["featured_media"] == media["id"]
        atom = ET.fromstring((tmp_path / "feeds" / "partner" / "en-US.atom").read_bytes())  # noqa: S314 - ours
        [description] = atom.iter(f"{MEDIA}description")
        assert description.text == alt
        # And the image was fetched from its host once for the four channels
        assert host.fetches("chart.png") == 1
