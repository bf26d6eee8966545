"""No credential leaks: the whole fault matrix runs with recognizable secrets, and none shows anywhere.

Every credential of the account is ``SECRET-CANARY-<random>`` (plus a suffix per credential), the
fakes accept exactly those values, and every error answer echoes the credential back in its body
and in a header, as a careless platform might. After every fault has run through the pipeline to
a terminal state, straight at the adapter, and through the embedded worker, the test searches:

* every log line, written by ``syndicate.base.logging.configure_logging`` at DEBUG, including the
  records of tweepy (which dumps request and response headers at DEBUG), urllib3 and Dramatiq;
* every row of every table of the ledger;
* every exception an adapter raised, as a traceback would print it.

None may contain the canary, in any form it travels in (as given, Basic-auth base64, whsec).
Partner feeds take no credential, so they have nothing to leak and are not swept.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import structlog
from sqlalchemy import MetaData, select

from syndicate.base.logging import configure_logging
from syndicate.publishing.content import publication_ref, render_publication
from syndicate.publishing.steps import do_publish
from syndicate.worker.host import run_until_settled
from tests.fakes.base import refused_url
from tests.reliability.channels import Channel, make_channel
from tests.reliability.matrix import FAULTS, enqueued_one, expected, runtime_for, settle


@pytest.fixture
def debug_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], str]]:
    """JSON logs at DEBUG (urllib3 too) into a buffer of this test; returns a reader of what was written."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    urllib3_level = logging.getLogger("urllib3").level
    buffer = io.StringIO()
    with monkeypatch.context() as m:
        m.setattr(sys, "stderr", buffer)  # configure_logging writes to the stderr of the moment
        configure_logging(json=True, level="DEBUG")
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    yield buffer.getvalue
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    logging.getLogger("urllib3").setLevel(urllib3_level)
    structlog.contextvars.clear_contextvars()


def ledger_text(rt: object) -> tuple[str, int]:
    """Every row of every table of the ledger, as JSON text, and how many rows there were."""
    engine = rt.ledger.engine  # type: ignore[attr-defined]
    meta = MetaData()
    meta.reflect(engine)
    rows: list[dict[str, object]] = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            rows.extend({"table": table.name, **dict(r)} for r in conn.execute(select(table)).mappings())
    return json.dumps(rows, default=str, ensure_ascii=False), len(rows)


def shown(exc: BaseException) -> str:
    """An exception as a traceback prints it (cause chain included), plus its repr and attributes."""
    parts = ["".join(traceback.format_exception(exc)), repr(exc)]
    parts.extend(str(v) for v in vars(exc).values())
    return "\n".join(parts)


def leaks(text: str, ch: Channel) -> list[str]:
    return [form for form in ch.secret_forms() if form in text]


@pytest.mark.parametrize("name", ["x", "linkedin", "wordpress", "webhooks"])
def test_no_credential_appears_in_a_log_line_a_ledger_row_or_an_exception(
    name: str, tmp_path: Path, config_dir: Callable[..., Path], sqlite_url: str, debug_logs: Callable[[], str]
) -> None:
    # Given an account whose every credential is a canary, and a fake that echoes it in its errors
    ch = make_channel(name, f"SECRET-CANARY-{uuid.uuid4().hex[:16]}", tmp_path)
    ch.start()
    with runtime_for(ch, config_dir, sqlite_url, ch.fake.url) as rt:
        exceptions: list[str] = []
        try:
            # When every fault runs through the pipeline to a terminal state
            for i, (fault, case) in enumerate(FAULTS.items()):
                pid = enqueued_one(rt, id=f"item-{i}", title=f"Fault {i}: {fault}")
                if fault == "connection refused":
                    with runtime_for(ch, config_dir, sqlite_url, refused_url()) as down:
                        do_publish(down, pid)
                else:
                    f = case.build(ch)
                    assert f is not None
                    ch.fake.fail_next(f)
                    do_publish(rt, pid)
                settle(rt, pid)
                rt.ledger.set_account_status(ch.account_id, "ok", "next fault", actor="test")
            # And every fault straight at the adapter, keeping what it raises
            for i, (fault, case) in enumerate(FAULTS.items()):
                f = case.build(ch)
                if f is None:
                    continue
                pid = enqueued_one(rt, id=f"direct-{i}", title=f"Direct {i}: {fault}")
                pub = rt.ledger.publication(pid)
                assert pub is not None
                ch.fake.fail_next(f)
                try:
                    rt.adapter(ch.account_id).publish(render_publication(rt, pub), publication_ref(rt, pub))
                except Exception as exc:
                    exceptions.append(shown(exc))
            # And the embedded worker publishes through a doubtful answer (reconciled), or an unusable one (webhooks)
            lost = "500 after the post was made"
            through = lost if expected(name, lost).first == "in_doubt" else "malformed JSON answer"
            ch.fake.fail_next(FAULTS[through].build(ch))  # type: ignore[arg-type]
            from syndicate import submit
            from tests.helpers import item_data

            submit(item_data(id="worker-1", title="Through the worker"), runtime=rt, ignore_schedule=True)
            pubs = run_until_settled(rt, lambda: rt.ledger.publications(item_id="worker-1"), threads=2,
                                     timeout=timedelta(seconds=60))
            assert [p.state for p in pubs] == ["published"]
            logs = debug_logs()
            ledger, rows = ledger_text(rt)
        finally:
            ch.stop()
    # Then the sweep saw real material: many log lines (libraries' too), many rows, the errors raised
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert len(lines) > 100 and rows > 100 and len(exceptions) >= 8
    assert {"urllib3.connectionpool", "syndicate.pipeline"} <= {line.get("logger") for line in lines}
    if name == "x":
        assert any(line.get("logger") == "tweepy.client" for line in lines)  # header dumps at DEBUG
    assert "[REDACTED]" in logs and "[REDACTED]" in ledger
    # And no credential appears in any of them, in any form
    assert leaks(logs, ch) == []
    assert leaks(ledger, ch) == []
    assert [leaks(e, ch) for e in exceptions if leaks(e, ch)] == []
