"""Response metrics: engagement snapshots through the adapter's fetch_metrics hook, over HTTP to a
loopback fake, stored per publication and time, and shown by `syndicate report`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from syndicate import Runtime, submit
from syndicate.channels.contract import AdapterRegistry, PublicationRef
from syndicate.cli import main
from syndicate.config.loading import load_config
from syndicate.errors import RateLimited, TransientError
from syndicate.localization.step import do_localize
from syndicate.operations.engagement import EngagementJob, collect_engagement, snapshots, store_snapshot
from syndicate.operations.report import report_rows
from syndicate.publishing.steps import do_publish
from tests.fakes.base import Fault, Request, Response
from tests.fakes.board import FakeBoard
from tests.helpers import ManualClock, item_data, sandbox_accounts, simple_route
from tests.support.board_adapter import BoardAdapter


class MeteredBoard(FakeBoard):
    """The board, plus GET /posts/{id}/metrics answering counts that grow with every read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: dict[str, int] = {}
        self.route("GET", r"/posts/(?P<id>[^/]+)/metrics", self._metrics)

    def _metrics(self, req: Request) -> Response:
        pid = req.path_params["id"]
        n = self.reads[pid] = self.reads.get(pid, 0) + 1
        return Response(200, {"likes": 10 * n, "reposts": n, "replies": 2, "impressions": 1000 * n,
                              "label": "not a count"})


class MeteredBoardAdapter(BoardAdapter):
    name = "metered"

    def fetch_metrics(self, remote_id: str, publication: PublicationRef) -> Mapping[str, int] | None:
        try:
            r = self.session.get(f"{self.account.base_url}/posts/{remote_id}/metrics", timeout=self._timeout())
        except requests.ConnectionError:
            raise TransientError("board unreachable") from None
        if r.status_code == 429:
            raise RateLimited("board metrics rate limit", until=datetime.now(UTC) + timedelta(minutes=15), status=429)
        if r.status_code >= 400:
            raise TransientError("board metrics failed", status=r.status_code)
        return {k: v for k, v in r.json().items() if isinstance(v, int | str)}  # type: ignore[misc]


@pytest.fixture
def board() -> Iterator[MeteredBoard]:
    with MeteredBoard() as b:
        yield b


def metered_runtime(config_dir: Callable[..., Path], ledger_url: str, board: MeteredBoard, clock: ManualClock,
                    accounts: tuple[str, ...] = ("m1", "m2"), **settings: object) -> Runtime:
    cfg_dir = config_dir(accounts={a: {"adapter": "metered", "base_url": board.url} for a in accounts},
                         routes=[simple_route("na", ["en-US"], list(accounts))],
                         settings={"engagement": {"interval": "1h", "window": "7d", **settings}})
    registry = AdapterRegistry()
    registry.register("metered", MeteredBoardAdapter)
    return Runtime.create(config=load_config(cfg_dir, registry=registry), database_url=ledger_url, redis_url="",
                          clock=clock)


def publish_all(rt: Runtime, item_id: str = "item-1") -> None:
    submit(item_data(id=item_id, locales=["en-US"]), runtime=rt, ignore_schedule=True)
    do_localize(rt, item_id, 1, "en-US")
    for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test"):
        assert do_publish(rt, p.id) == "published"


def test_snapshots_are_stored_per_publication_and_time_and_the_report_shows_the_newest(
    config_dir: Callable[..., Path], ledger_url: str, board: MeteredBoard
) -> None:
    # Given two posts published on a board that reports counts
    clock = ManualClock()
    with metered_runtime(config_dir, ledger_url, board, clock) as rt:
        publish_all(rt)
        # When engagement is collected now and again an hour later
        first = collect_engagement(rt)
        clock.advance(timedelta(hours=1))
        second = collect_engagement(rt)
        pubs = rt.ledger.publications(item_id="item-1")
        history = {p.account: snapshots(rt.ledger, p.id) for p in pubs}
        rows = report_rows(rt.ledger, campaign="test-campaign")
    # Then each publication has two snapshots, an hour apart, with only integer counts kept
    assert (first.stored, second.stored, first.errors) == (2, 2, 0)
    for snaps in history.values():
        assert [s.counts["likes"] for s in snaps] == [10, 20]
        assert snaps[1].taken_at - snaps[0].taken_at == timedelta(hours=1)
        assert "label" not in snaps[0].counts
    # And the report rows carry the newest counts beside the back-link and UTM fields
    for r in rows:
        assert (r["likes"], r["reposts"], r["replies"], r["impressions"]) == (20, 2, 2, 2000)
        assert r["permalink"].startswith(board.url) and r["utm_campaign"] == "test-campaign"
        assert r["engagement_at"]


def test_posts_older_than_the_window_are_not_asked_again(
    config_dir: Callable[..., Path], sqlite_url: str, board: MeteredBoard
) -> None:
    # Given posts published eight days ago, with a seven-day window
    clock = ManualClock()
    with metered_runtime(config_dir, sqlite_url, board, clock) as rt:
        publish_all(rt)
        clock.advance(timedelta(days=8))
        # When engagement is collected
        report = collect_engagement(rt)
    # Then the platform was not asked at all
    assert report.stored == 0 and board.reads == {}


def test_a_rate_limited_account_is_paused_for_the_round_and_others_go_on(
    config_dir: Callable[..., Path], sqlite_url: str, board: MeteredBoard
) -> None:
    # Given two published items on one account, and a board that answers 429 to the next metrics read
    clock = ManualClock()
    with metered_runtime(config_dir, sqlite_url, board, clock, accounts=("m1",)) as rt:
        publish_all(rt, "item-1")
        publish_all(rt, "item-2")
        board.fail_next(Fault("status", method="GET", path="/metrics$", status=429))
        # When engagement is collected
        report = collect_engagement(rt)
    # Then the account was paused after the 429: no second read, nothing stored, one error counted
    assert (report.stored, report.errors, report.skipped) == (0, 1, 1)
    assert report.accounts_stopped == ["m1"]
    assert sum(board.reads.values()) == 0


def test_one_worker_wins_each_round(config_dir: Callable[..., Path], pg_url: str, board: MeteredBoard) -> None:
    # Given two workers' jobs on one ledger
    clock = ManualClock()
    with (metered_runtime(config_dir, pg_url, board, clock) as rt1,
          Runtime.create(config=rt1.config, database_url=pg_url, redis_url="", clock=clock) as rt2):
        jobs = [EngagementJob.for_runtime(rt1), EngagementJob.for_runtime(rt2)]
        assert all(j is not None for j in jobs)
        # When both ask for a turn, again half an hour later, and again after the interval
        now = [j.take_turn() for j in jobs if j]
        clock.advance(timedelta(minutes=30))
        soon = [j.take_turn() for j in jobs if j]
        clock.advance(timedelta(minutes=31))
        later = [j.take_turn() for j in jobs if j]
    # Then exactly one wins the first round, none before the interval, one after it
    assert sorted(now) == [False, True]
    assert soon == [False, False]
    assert sorted(later) == [False, True]


def test_the_job_is_off_when_no_adapter_offers_metrics(config_dir: Callable[..., Path], sqlite_url: str,
                                                        outbox: Path) -> None:
    # Given only sandbox accounts (no fetch_metrics)
    with Runtime.create(config=config_dir(accounts=sandbox_accounts("s1")), database_url=sqlite_url,
                        redis_url="") as rt:
        # Then no job is made for it
        assert EngagementJob.for_runtime(rt) is None


def test_report_csv_and_json_show_engagement_columns(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published sandbox post with a stored snapshot, in the ledger the CLI reads
    cfg = config_dir(accounts=sandbox_accounts("s1"))
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        publish_sandbox(rt)
        [pub] = rt.ledger.publications(item_id="item-1")
        store_snapshot(rt.ledger, pub.id, {"likes": 7, "clicks": 3, "saves": 1}, taken_at=rt.ledger.now())
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", sqlite_url)
    # When `syndicate report` exports it as CSV and JSON
    runner = CliRunner()
    as_csv = runner.invoke(main, ["report", "--config", str(cfg), "--campaign", "test-campaign"])
    as_json = runner.invoke(main, ["report", "--config", str(cfg), "--format", "json"])
    # Then the CSV has the engagement columns filled, and JSON keeps every count
    assert as_csv.exit_code == 0, as_csv.output
    [row] = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert (row["likes"], row["clicks"], row["reposts"]) == ("7", "3", "")
    assert row["permalink"].startswith("file://") and row["utm_source"]
    [obj] = json.loads(as_json.stdout)
    assert obj["engagement"] == {"likes": 7, "clicks": 3, "saves": 1}


def publish_sandbox(rt: Runtime) -> None:
    submit(item_data(locales=["en-US"]), runtime=rt, ignore_schedule=True)
    do_localize(rt, "item-1", 1, "en-US")
    for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test"):
        assert do_publish(rt, p.id) == "published"
