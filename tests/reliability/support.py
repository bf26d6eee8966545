"""Builders shared by the reliability tests: a runtime on the board fake, items made ready to publish."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from syndicate import Runtime, submit
from syndicate.channels.contract import AdapterRegistry
from syndicate.config.loading import load_config
from syndicate.ledger.schema import publications
from syndicate.localization.step import do_localize
from syndicate.model.config import Config
from syndicate.model.timing import Timing
from tests.fakes.board import FakeBoard
from tests.helpers import item_data, simple_route
from tests.support.board_adapter import BoardAdapter

__all__ = ["board_config", "board_runtime", "enqueued", "make_due", "prepared"]


def board_config(config_dir: Callable[..., Path], board: FakeBoard, *, accounts: Iterable[str] = ("b",),
                 locales: Iterable[str] = ("en-US",), settings: dict[str, Any] | None = None,
                 read_timeout_s: float = 0.5) -> Config:
    """A config with board accounts at ``board`` (one route publishing ``locales`` to them)."""
    accs = list(accounts)
    d = config_dir(accounts={a: {"adapter": "board", "base_url": board.url, "connect_timeout_s": 1,
                                 "read_timeout_s": read_timeout_s} for a in accs},
                   routes=[simple_route("r", list(locales), accs)], settings=settings)
    registry = AdapterRegistry()
    registry.register("board", BoardAdapter)
    return load_config(d, registry=registry)


def board_runtime(config_dir: Callable[..., Path], board: FakeBoard, database_url: str, *,
                  timing: Timing | None = None, **kw: Any) -> Runtime:
    """An embedded runtime (no Redis) publishing to ``board``."""
    return Runtime.create(config=board_config(config_dir, board, **kw), database_url=database_url, redis_url="",
                          timing=timing)


def prepared(rt: Runtime, **item: Any) -> list[int]:
    """Submit an item (``item_data(**item)``), localize it here, and return its publication ids."""
    sub = submit(item_data(**item), runtime=rt, ignore_schedule=True)
    for loc in rt.ledger.mark_localizations_requested(sub.item_id, sub.revision):
        do_localize(rt, sub.item_id, sub.revision, loc)
    return [p.id for p in sub.publications]


def enqueued(rt: Runtime, **item: Any) -> list[int]:
    """As :func:`prepared`, then move every due publication to ``enqueued`` (as the dispatcher does)."""
    ids = prepared(rt, **item)
    due = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=1000, actor="test")
    assert {p.id for p in due} >= set(ids)
    return ids


def make_due(rt: Runtime, *ids: int) -> None:
    """Bring the retry time of ``ids`` to now (instead of waiting out the backoff)."""
    with rt.ledger.begin() as conn:
        conn.execute(update(publications).where(publications.c.id.in_(ids))
                     .values(scheduled_for=rt.ledger.now() - timedelta(seconds=1)))
