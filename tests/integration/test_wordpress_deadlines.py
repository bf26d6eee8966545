"""A WordPress site that drips its answer to a create is cut off at the exchange's deadline.

Each byte comes well within the read timeout, so only a total deadline ends the exchange; the
post was created, its answer is cut: the publication goes in doubt at once (never waits out the
worker's time limit, never a traceback), and reconciliation finds the post.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syndicate.publishing.steps import do_publish, do_reconcile
from tests.fakes.base import Fault
from tests.fakes.wordpress import FakeWordPress, WpUser
from tests.integration.test_wordpress_publish import PASSWORD, YOAST, enqueue, make_runtime


@pytest.fixture
def site() -> Iterator[FakeWordPress]:
    with FakeWordPress({"editor": WpUser(PASSWORD)}, registered_meta=(YOAST,)) as fake:
        fake.add_term("tags", "testing")
        yield fake


def test_a_create_answer_dripped_past_the_deadline_goes_in_doubt_and_is_reconciled(
        config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress) -> None:
    # Given a site (read timeout 0.5 s, deadline 1 + 0.5 s) that makes the post, then drips its
    # answer one byte every 0.1 s
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pid = enqueue(rt)
        site.fail_next(Fault("drip", when="after", method="POST", path="/wp/v2/posts$", seconds=0.1))
        # When the publication is published
        outcome = do_publish(rt, pid)
        # Then the cut answer puts it in doubt (the post may exist), and reconciliation finds it
        assert outcome == "in_doubt"
        assert do_reconcile(rt, pid) == "published"
        pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "published" and len(site.posts) == 1
