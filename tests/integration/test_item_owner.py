"""An item belongs to who submitted its first revision. A caller acting for a producer
(``producer=``) may supersede or cancel only its own items; an operator (no ``producer``) may act
on any item. Items stored before owners were recorded get theirs from the audit trail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from syndicate import NotOwner, Runtime, cancel, submit
from syndicate.ledger import Ledger
from syndicate.ledger.migrate import upgrade
from syndicate.ledger.schema import events, items
from tests.helpers import item_data, sandbox_accounts, simple_route


@pytest.fixture
def rt(config_dir: Callable[..., Path], ledger_url: str, outbox: Path) -> Iterator[Runtime]:
    cfg = config_dir(accounts=sandbox_accounts("a1"), routes=[simple_route("na", ["en-US"], ["a1"])])
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="") as runtime:
        yield runtime


def owners(ledger: Ledger, item_id: str = "item-1") -> list[str | None]:
    with ledger.engine.connect() as conn:
        return list(conn.execute(select(items.c.owner).where(items.c.item_id == item_id)
                                 .order_by(items.c.revision)).scalars())


def test_a_producer_may_not_supersede_or_cancel_another_producers_item_in_python(rt: Runtime) -> None:
    # Given an item submitted for producer cms-a
    submit(item_data(), runtime=rt, actor="cms-a", producer="cms-a")
    # When producer cms-b submits a new revision, or cancels it
    with pytest.raises(NotOwner, match="submitted by another producer"):
        submit(item_data(revision=2), runtime=rt, actor="cms-b", producer="cms-b")
    with pytest.raises(NotOwner):
        cancel("item-1", runtime=rt, actor="cms-b", producer="cms-b")
    # Then nothing changed
    stored = rt.ledger.item("item-1")
    assert stored is not None and stored.item.revision == 1 and stored.state == "active"
    assert {p.state for p in rt.ledger.publications(item_id="item-1")} == {"scheduled"}


def test_an_operator_may_supersede_any_item_and_the_owner_stays(rt: Runtime) -> None:
    submit(item_data(), runtime=rt, actor="api:cms-a", producer="api:cms-a")
    # When an operator (no producer) submits a correction, the owner may still edit and cancel it
    submit(item_data(revision=2, title="Fixed"), runtime=rt, actor="cli")
    submit(item_data(revision=3, title="Edited"), runtime=rt, actor="api:cms-a", producer="api:cms-a")
    done = cancel("item-1", runtime=rt, actor="api:cms-a", producer="api:cms-a")
    assert done.cancelled
    assert owners(rt.ledger) == ["api:cms-a"] * 3


def test_an_item_an_operator_created_belongs_to_the_operator(rt: Runtime) -> None:
    submit(item_data(), runtime=rt, actor="cli")
    assert owners(rt.ledger) == ["cli"]
    with pytest.raises(NotOwner):
        submit(item_data(revision=2), runtime=rt, actor="api:cms-a", producer="api:cms-a")


def test_items_stored_before_owners_were_recorded_get_the_first_submitter(ledger_url: str) -> None:
    # Given a ledger at the schema before owners, with one item submitted twice by api:cms
    with Ledger(ledger_url) as ledger:
        upgrade(ledger.engine, "0002")
        now = datetime.now(UTC)
        with ledger.begin() as conn:
            for rev, actor in ((1, "api:cms"), (2, "cli")):
                conn.execute(insert(items).values(item_id="old-1", revision=rev, payload={}, content_hash="h",
                                                  campaign="c", state="active", received_at=now, updated_at=now))
                conn.execute(insert(events).values(at=now, item_id="old-1", revision=rev, kind="item.received",
                                                   actor=actor))
        # When the ledger is migrated to the newest schema
        ledger.migrate()
        # Then every revision is owned by who submitted the first
        assert owners(ledger, "old-1") == ["api:cms", "api:cms"]
