"""SYNDICATE_BROKER_URL and SYNDICATE_REDIS_URL: which broker, which Redis, and what is refused."""

from __future__ import annotations

import pytest

from syndicate.base.brokerurl import display_url, resolve_broker_urls
from syndicate.errors import BrokerError
from syndicate.runtime import rabbitmq_url

AMQP = "amqp://guest:guest@rabbit:5672/prod"
REDIS = "redis://:pw@redis:6379/0"


@pytest.mark.parametrize(("env", "expected"), [
    ({}, (None, None, "embedded")),
    ({"SYNDICATE_REDIS_URL": REDIS}, (REDIS, REDIS, "redis")),
    ({"SYNDICATE_BROKER_URL": REDIS}, (REDIS, REDIS, "redis")),
    ({"SYNDICATE_BROKER_URL": REDIS, "SYNDICATE_REDIS_URL": REDIS}, (REDIS, REDIS, "redis")),
    ({"SYNDICATE_BROKER_URL": AMQP}, (AMQP, None, "rabbitmq")),
    ({"SYNDICATE_BROKER_URL": AMQP, "SYNDICATE_REDIS_URL": REDIS}, (AMQP, REDIS, "rabbitmq")),
    ({"SYNDICATE_BROKER_URL": "", "SYNDICATE_REDIS_URL": ""}, (None, None, "embedded")),
])
def test_the_environment_picks_the_broker_and_the_redis(env: dict[str, str], expected: tuple[object, ...]) -> None:
    urls = resolve_broker_urls(None, None, env)
    assert (urls.broker, urls.redis, urls.kind) == expected


def test_arguments_win_over_the_environment_and_an_empty_redis_url_means_embedded() -> None:
    env = {"SYNDICATE_BROKER_URL": AMQP, "SYNDICATE_REDIS_URL": REDIS}
    assert resolve_broker_urls(None, "", env).kind == "embedded"
    assert resolve_broker_urls(REDIS, None, {"SYNDICATE_BROKER_URL": AMQP}).kind == "redis"
    assert resolve_broker_urls(AMQP, "", env) == resolve_broker_urls(AMQP, None, {})


def test_two_different_redis_urls_are_refused_without_their_passwords() -> None:
    with pytest.raises(BrokerError) as caught:
        resolve_broker_urls(None, None, {"SYNDICATE_BROKER_URL": "redis://:one@a:6379/0",
                                         "SYNDICATE_REDIS_URL": "redis://:two@b:6379/0"})
    message = str(caught.value)
    assert "two different Redis servers" in message and "redis://:***@a:6379/0" in message
    assert "one" not in message.replace("one of them", "") and "two@" not in message


@pytest.mark.parametrize(("name", "url"), [("SYNDICATE_BROKER_URL", "kafka://u:pw@k:9092"),
                                           ("SYNDICATE_REDIS_URL", "amqp://u:pw@r:5672/")])
def test_a_url_of_the_wrong_kind_is_refused_by_name(name: str, url: str) -> None:
    with pytest.raises(BrokerError, match=name) as caught:
        resolve_broker_urls(None, None, {name: url})
    assert "pw" not in str(caught.value)


def test_display_url_hides_only_the_password() -> None:
    assert display_url("amqps://user:secret@[::1]:5671/vh?heartbeat=5") == "amqps://user:***@[::1]:5671/vh?heartbeat=5"
    assert display_url("redis://redis:6379/0") == "redis://redis:6379/0"


def test_rabbitmq_connection_defaults_are_added_unless_the_url_sets_them() -> None:
    url = rabbitmq_url("amqp://guest:guest@rabbit:5672/%2F?heartbeat=5")
    assert url.startswith("amqp://guest:guest@rabbit:5672/%2F?")
    assert "heartbeat=5" in url and "heartbeat=60" not in url
    assert "blocked_connection_timeout=30" in url and "socket_timeout=10" in url
