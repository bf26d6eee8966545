"""A runtime and a ledger are context managers: leaving the block closes their database
connections, also when the block raises; the ledger names its database without the password and
says whether a SQLite ledger exists yet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from syndicate import Runtime, submit
from syndicate.ledger import Ledger
from tests.helpers import item_data


def connections_to(url: str) -> int:
    """Sessions open on the database of ``url``, this probe's own left out."""
    u = make_url(url)
    with psycopg.connect(u.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                           (u.database,)).fetchone()
    assert row is not None
    return int(row[0])


def test_leaving_a_runtimes_with_block_closes_its_database_connections(
    config_dir: Callable[..., Path], pg_url: str, outbox: Path
) -> None:
    # Given a runtime that has used its ledger
    with Runtime.create(config=config_dir(), database_url=pg_url, redis_url="") as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        inside = connections_to(pg_url)
    # When the block ends / Then its pooled connections are gone
    assert inside >= 1
    assert connections_to(pg_url) == 0


def test_an_error_in_a_runtimes_with_block_still_closes_it_and_goes_on_up(
    config_dir: Callable[..., Path], pg_url: str, outbox: Path
) -> None:
    # Given a runtime whose block fails after using the ledger
    with (pytest.raises(RuntimeError, match="in the block"),
          Runtime.create(config=config_dir(), database_url=pg_url, redis_url="") as rt):
        submit(item_data(), runtime=rt, ignore_schedule=True)
        raise RuntimeError("in the block")
    # Then the error reached the caller, and the connections were closed all the same
    assert connections_to(pg_url) == 0


def test_a_ledger_used_as_a_context_manager_closes_its_pool(pg_url: str) -> None:
    # Given a ledger that answered a query inside a with block
    with Ledger(pg_url) as led:
        led.migrate()
        led.ping()
        inside = connections_to(pg_url)
    # Then leaving the block closed what it had opened
    assert inside >= 1 and connections_to(pg_url) == 0


def test_the_ledger_names_its_database_without_the_password() -> None:
    # Given a ledger URL with a password (nothing is connected to build it)
    led = Ledger("postgresql://ops:s3cret-pw@db.example:5432/syndicate")
    # Then the name it gives for messages hides the password and shows the driver used
    assert led.display_url == "postgresql+psycopg://ops:***@db.example:5432/syndicate"
    assert "s3cret-pw" not in led.display_url


def test_a_sqlite_ledger_exists_once_its_file_does(tmp_path: Path) -> None:
    # Given a SQLite ledger whose file was never written
    with Ledger(f"sqlite:///{tmp_path / 'new.db'}") as led:
        # Then it does not exist yet, and asking does not create it
        assert not led.exists() and not (tmp_path / "new.db").exists()
        # When its schema is made / Then it does
        led.migrate()
        assert led.exists()
