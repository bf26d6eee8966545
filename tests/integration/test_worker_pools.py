"""A worker process's two thread pools: publishing threads are never taken by intake or localization.

A translation engine that does not answer holds the process's one localization thread; a post that
is due still goes out on the publishing thread meanwhile (with one pool of one thread it waited for
the engine).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicate import Runtime, submit
from syndicate.localization.step import do_localize
from syndicate.worker.actors import ACTOR_NAMES, PREPARE_QUEUES, PUBLISH_QUEUES
from syndicate.worker.host import WorkerHost
from tests.fakes.base import Request, Response
from tests.fakes.deepl import FakeDeepL
from tests.helpers import item_data, sandbox_accounts, simple_route, wait_until

DEEPL_KEY = "dk-0b6e2c1a-5d4f-4e3a-9c8b-7a6f5e4d3c2b:fx"


class HeldDeepL(FakeDeepL):
    """DeepL that holds every translation until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__(DEEPL_KEY)
        self.arrived = threading.Event()
        self.release = threading.Event()

    def _translate(self, req: Request) -> Response:
        self.arrived.set()
        self.release.wait(30)
        return super()._translate(req)


def test_every_queue_has_one_pool() -> None:
    # Every actor's queue is consumed by exactly one of the two pools
    assert set(ACTOR_NAMES.values()) == PREPARE_QUEUES | PUBLISH_QUEUES
    assert not PREPARE_QUEUES & PUBLISH_QUEUES
    assert {"syndicate.intake", "syndicate.localize"} == PREPARE_QUEUES


def test_a_due_post_goes_out_while_a_translation_holds_the_localization_thread(
    config_dir: Callable[..., Path], sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a region translated by DeepL, which holds its answer, and a region in the source locale;
    # each item goes to one of them by its buying stage
    with HeldDeepL() as deepl:
        timeouts = {"read_timeout_s": 30.0, "connect_timeout_s": 2.0}
        d = config_dir(
            accounts=sandbox_accounts("s-de", "s-us"),
            routes=[simple_route("dach", ["de-DE"], ["s-de"], buying_stages=["decision"],
                                 translation={"engine": "deepl"}),
                    simple_route("us", ["en-US"], ["s-us"], buying_stages=["awareness"])],
            settings={"translation": {"engines": {"deepl": {"engine": "deepl", "options": {
                "auth_key": "${DEEPL_AUTH_KEY}", "server_url": deepl.url, **timeouts}}}}})
        with Runtime.create(config=d, database_url=sqlite_url, redis_url="",
                            environ={"DEEPL_AUTH_KEY": DEEPL_KEY}) as rt:
            host = WorkerHost(rt, threads=1, prepare_threads=1)
            with caplog.at_level(logging.WARNING, logger="dramatiq"):
                host.start()
            try:
                # (Dramatiq's notice that the second pool adds its own worker middleware is not logged)
                assert not [r for r in caplog.records if "same type twice" in r.getMessage()]
                # When an item for the translated region is being translated (its one thread waits)
                held = submit(item_data(id="held", buying_stage="decision"), runtime=rt, ignore_schedule=True)
                assert deepl.arrived.wait(20), "the translation request never reached the engine"
                # And another item's publication becomes due meanwhile (localized here, not by the worker)
                due = submit(item_data(id="due", buying_stage="awareness"), runtime=rt, ignore_schedule=True)
                for loc in rt.ledger.mark_localizations_requested(due.item_id, due.revision):
                    do_localize(rt, due.item_id, due.revision, loc)
                # Then it is published while the translation is still held
                wait_until(lambda: any(p.state == "published" for p in rt.ledger.publications(item_id="due")),
                           "the due post", 20)
                assert {p.account: p.state for p in rt.ledger.publications(item_id="due")} == {
                    "s-us": "published", "s-de": "skipped"}
                loc = rt.ledger.localization("held", held.revision, "de-DE")
                assert loc is not None and loc["state"] == "pending"
                assert not deepl.release.is_set()
                # And once the engine answers, the held item goes out too
                deepl.release.set()
                wait_until(lambda: any(p.state == "published" for p in rt.ledger.publications(item_id="held")),
                           "the held post", 20)
                assert {p.account: p.state for p in rt.ledger.publications(item_id="held")} == {
                    "s-de": "published", "s-us": "skipped"}
            finally:
                deepl.release.set()
                host.stop()
