"""A running worker fed hostile items and hostile queue messages keeps working.

Hostile but valid items (scripts, event handlers, ``javascript:`` links, invisible and
right-to-left characters, emoji sequences) go through the embedded worker to sandbox accounts; an
item whose link cannot fit one account fails that publication only; malformed messages (wrong
argument types, unknown ids, undecodable bytes pushed straight into Redis) are dead-lettered or
skipped; and afterwards an ordinary item still publishes.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import redis

from syndicate import Runtime, submit
from syndicate.ledger import Publication
from syndicate.model.item import load_item_bytes
from syndicate.model.timing import Timing
from syndicate.worker.host import WorkerHost
from tests.helpers import item_data, simple_route
from tests.reliability.corpus import ITEM_CASES

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def wait_terminal(rt: Runtime, ids: list[str], timeout_s: float = 90) -> list[Publication]:
    deadline = time.monotonic() + timeout_s
    while True:
        pubs = [p for i in ids for p in rt.ledger.publications(item_id=i)]
        if pubs and all(p.terminal for p in pubs):
            return pubs
        if time.monotonic() > deadline:
            raise AssertionError(f"not terminal: {[(p.key, p.state) for p in pubs if not p.terminal]}")
        time.sleep(0.1)


def test_the_embedded_worker_survives_hostile_items_and_messages_and_keeps_publishing(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path
) -> None:
    # Given an embedded worker publishing to a roomy account and to one with 200 characters a post
    d = config_dir(accounts={"roomy": {"adapter": "sandbox", "options": {"style": "article", "max_length": 100_000}},
                             "tiny": {"adapter": "sandbox", "options": {"max_length": 200}}},
                   routes=[simple_route("r", ["en-US"], ["roomy", "tiny"], translation={"engine": "pseudo"})])
    with Runtime.create(config=d, database_url=sqlite_url, redis_url="") as rt:
        host = WorkerHost(rt, threads=4)
        host.start()
        try:
            # When every hostile but valid item of the corpus is submitted while it runs
            ids = []
            for n, case in enumerate(c for c in ITEM_CASES if c.outcome == "accepted"):
                item = load_item_bytes(case.raw, case.name).model_copy(update={"id": f"hostile-{n}"})
                ids.append(submit(item, runtime=rt, ignore_schedule=True).item_id)
            # and one whose link alone is longer than the tiny account's posts
            long_link = "https://example.com/" + "l" * 200
            ids.append(submit(item_data(id="long-link", canonical_url=long_link,
                                        cta={"text": "Read", "url": long_link}), runtime=rt,
                              ignore_schedule=True).item_id)
            # and malformed messages arrive on every queue (no retries: straight to the dead letters)
            a = rt.actors
            for actor, args in ((a.publish, ("abc",)), (a.publish, (None,)), (a.publish, (-5,)),
                                (a.publish, (2**70,)), (a.publish, (1, 2, 3)), (a.publish, ()), (a.reconcile, ("x",)),
                                (a.reconcile, ({},)), (a.intake, (None, None)), (a.intake, ("no-such-item", 1)),
                                (a.intake, ("x" * 10_000, "1")), (a.localize, ("x", "y", "z")),
                                (a.localize, ("hostile-0", 1, "xx-YY"))):
                actor.send_with_options(args=args, max_retries=0)
            pubs = wait_terminal(rt, ids)
            # Then every publication ended: the roomy account published everything, safely
            roomy = [p for p in pubs if p.account == "roomy"]
            assert {p.state for p in roomy} == {"published"}, [(p.key, p.last_error) for p in roomy
                                                               if p.state != "published"]
            for p in roomy:
                assert p.permalink is not None
                text = Path(p.permalink.removeprefix("file://")).read_text(encoding="utf-8")
                assert not _CONTROL.search(text) and p.tagged_url in text
            # And the tiny account failed only the publication it could not render, saying why
            [failed] = [p for p in pubs if p.state == "failed"]
            assert failed.account == "tiny" and failed.item_id == "long-link"
            assert "link and call to action alone" in (failed.last_error or "")
            assert rt.ledger.publication_by_key("long-link/1/en-US/roomy/0").state == "published"  # type: ignore[union-attr]
            assert any(e["kind"] == "transition" and e["to_state"] == "failed" for e in rt.ledger.events(
                publication_id=failed.id))
            # And the worker still publishes an ordinary item afterwards
            ids = [submit(item_data(id="after", title="After the storm"), runtime=rt, ignore_schedule=True).item_id]
            assert {p.state for p in wait_terminal(rt, ids)} == {"published"}
        finally:
            host.stop()


def test_undecodable_messages_pushed_into_redis_do_not_stop_a_worker(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, redis_url: str, redis_namespace: str
) -> None:
    # Given a worker on Redis whose dispatcher re-sends a lost publish message after 2 s
    d = config_dir()
    with Runtime.create(config=d, database_url=sqlite_url, redis_url=redis_url, namespace=redis_namespace,
                        timing=Timing(resend_after=timedelta(seconds=2))) as rt:
        client = redis.Redis.from_url(redis_url)
        queue = f"{redis_namespace}:syndicate.publish"

        def push(data: bytes) -> None:
            mid = str(uuid.uuid4())
            client.hset(f"{queue}.msgs", mid, data)
            client.rpush(queue, mid)

        host = WorkerHost(rt, threads=2)
        host.start()
        try:
            # When garbage sits in the publish queue next to real work: not JSON, an unknown field,
            # an unknown actor, a message id that points at nothing
            push(b"\xff\xfe not json")
            push(json.dumps({"queue_name": "syndicate.publish", "actor_name": "publish", "args": [1], "kwargs": {},
                             "options": {}, "message_id": "m", "message_timestamp": 0, "evil": True}).encode())
            push(json.dumps({"queue_name": "syndicate.publish", "actor_name": "rm_rf", "args": [], "kwargs": {},
                             "options": {"redis_message_id": "nope"}, "message_id": "m2",
                             "message_timestamp": 0}).encode())
            client.rpush(queue, "id-without-a-message")
            ids = [submit(item_data(id=f"real-{i}", title=f"Real item {i}"), runtime=rt, ignore_schedule=True).item_id
                   for i in range(3)]
            # Then the real publications are all published, once each
            pubs = wait_terminal(rt, ids)
            assert [p.state for p in pubs] == ["published"] * 3
            assert len(list(outbox.rglob("*.txt"))) == 3
        finally:
            host.stop()
            client.close()
