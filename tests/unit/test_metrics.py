"""Metrics helpers and the scrape-time collectors, read back through the Prometheus text format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from dramatiq import Message
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from syndicate import Runtime, submit
from syndicate.base.metrics import count_localization, observe_publication, platform_call
from syndicate.errors import TransientError
from syndicate.ledger import Ledger
from syndicate.operations.metrics import BrokerCollector, LedgerCollector
from tests.helpers import item_data, sandbox_accounts, simple_route


def scrape(*collectors: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Serve ``collectors`` from a fresh registry, render the text format, parse it back."""
    reg = CollectorRegistry(auto_describe=False)
    for c in collectors:
        reg.register(c)  # type: ignore[arg-type]
    text = generate_latest(reg).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_platform_call_times_the_call_and_lets_its_error_through() -> None:
    # Given the count of failed calls so far on a channel
    before = sample("syndicate_publish_call_seconds_count", channel="unit-ch", result="TransientError")
    # When a call inside platform_call raises our transient error
    with pytest.raises(TransientError, match="refused"), platform_call("unit-ch"):
        raise TransientError("connection refused")
    # Then the same error reached the caller and one more call was timed under its class name
    assert sample("syndicate_publish_call_seconds_count", channel="unit-ch", result="TransientError") == before + 1


def test_a_failing_metrics_call_never_raises() -> None:
    # Given a publication record that breaks the lateness arithmetic (a string where a time belongs)
    class Broken:
        channel = "unit-broken"
        published_at = "not a datetime"
        scheduled_for = None
        planned_for = None

    # When its outcome is observed
    observe_publication("published", Broken())  # type: ignore[arg-type]
    # Then nothing is raised, and the outcome counted before the failure stays counted
    assert sample("syndicate_publish_outcomes_total", channel="unit-broken", outcome="published") == 1


def test_localization_counts_requests_and_cache_hits_by_engine() -> None:
    # Given the counts so far for an engine
    req0, hit0 = sample("syndicate_mt_requests_total", engine="unit-mt"), sample("syndicate_mt_cache_hits_total",
                                                                                  engine="unit-mt")
    # When a localization made 3 requests and served 2 fields from the cache
    count_localization("unit-mt", "done", requests=3, cache_hits=2)
    # Then both counters moved by exactly that much
    assert sample("syndicate_mt_requests_total", engine="unit-mt") == req0 + 3
    assert sample("syndicate_mt_cache_hits_total", engine="unit-mt") == hit0 + 2
    assert sample("syndicate_localizations_total", engine="unit-mt", outcome="done") >= 1


def test_ledger_collector_reports_publications_by_state_and_channel(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path
) -> None:
    # Given an item planned for two sandbox accounts, one of whose publications is then cancelled
    cfg = config_dir(accounts=sandbox_accounts("a1", "a2"), routes=[simple_route("r", ["en-US"], ["a1", "a2"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        rt.ledger.cancel_item("item-1", actor="test", account="a2")
        # When the collector is scraped
        values = scrape(LedgerCollector(rt.ledger))
    # Then the gauge counts one scheduled and one cancelled sandbox publication, and the ledger is up
    assert values[("syndicate_publications", (("channel", "sandbox"), ("state", "scheduled")))] == 1
    assert values[("syndicate_publications", (("channel", "sandbox"), ("state", "cancelled")))] == 1
    assert values[("syndicate_ledger_up", ())] == 1


def test_ledger_collector_reports_down_instead_of_failing_the_scrape() -> None:
    # Given a ledger whose server refuses connections
    with Ledger("postgresql+psycopg://nobody@127.0.0.1:1/none") as ledger:
        # When the collector is scraped
        values = scrape(LedgerCollector(ledger))
    # Then the scrape succeeds and says the ledger is down
    assert values == {("syndicate_ledger_up", ()): 0.0}


def test_broker_collector_reads_queue_depth_from_redis_keys(redis_url: str, redis_namespace: str) -> None:
    # Given a Redis broker in a test namespace with 3 intake messages, 1 delayed publish, 1 dead-lettered
    import redis
    from dramatiq.brokers.redis import RedisBroker

    from syndicate.runtime import make_broker

    broker = make_broker(redis_url, namespace=redis_namespace)
    assert isinstance(broker, RedisBroker)
    for queue in ("syndicate.intake", "syndicate.publish"):
        broker.declare_queue(queue)
    for i in range(3):
        broker.enqueue(Message(queue_name="syndicate.intake", actor_name="intake", args=(f"i{i}", 1), kwargs={},
                               options={}))
    broker.enqueue(Message(queue_name="syndicate.publish", actor_name="publish", args=(1,), kwargs={}, options={}),
                   delay=int(timedelta(hours=1).total_seconds() * 1000))
    client = redis.Redis.from_url(redis_url)
    client.zadd(f"{redis_namespace}:syndicate.publish.XQ", {"dead-1": 1})
    try:
        # When the collector is scraped
        values = scrape(BrokerCollector(["syndicate.intake", "syndicate.publish"], redis_client=client,
                                        namespace=redis_namespace))
    finally:
        client.close()
        broker.close()
    # Then each queue's depth is reported by kind
    assert values[("syndicate_queue_messages", (("kind", "ready"), ("queue", "syndicate.intake")))] == 3
    assert values[("syndicate_queue_messages", (("kind", "delayed"), ("queue", "syndicate.publish")))] == 1
    assert values[("syndicate_queue_messages", (("kind", "dead"), ("queue", "syndicate.publish")))] == 1
    assert values[("syndicate_queue_messages", (("kind", "in_flight"), ("queue", "syndicate.intake")))] == 0
    assert values[("syndicate_broker_up", ())] == 1
