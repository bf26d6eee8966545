"""Media URLs are refused at intake when they name this machine or a non-public address.

The intake check sees only the URL (no DNS): literal addresses in every spelling a resolver
accepts, and ``localhost`` names. Names are checked again, resolved, on every fetch
(``tests/integration/test_fetching.py``).
"""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from syndicate.base import addresses
from syndicate.base.addresses import LOOPBACK_ENV, allow_loopback_fetches
from syndicate.model.item import InvalidItem, parse_item
from tests.helpers import item_data


def _item_with_media(url: str) -> None:
    parse_item(item_data(media=[{"url": "https://cdn.example.com/ok.png"}, {"url": url, "alt": "chart"}]))


@pytest.mark.parametrize(("url", "kind"), [
    ("http://127.0.0.1/a.png", "a loopback address"),
    ("http://127.8.9.10:8080/a.png", "a loopback address"),
    ("http://2130706433/a.png", "a loopback address"),             # decimal
    ("http://0177.0.0.1/a.png", "a loopback address"),             # octal
    ("http://0x7f000001/a.png", "a loopback address"),             # hexadecimal
    ("http://0x7f.1/a.png", "a loopback address"),                 # short, mixed
    ("http://127.1/a.png", "a loopback address"),                  # short
    ("http://１２７.０.０.１/a.png", "a loopback address"),          # full-width digits
    ("http://[::1]/a.png", "a loopback address"),
    ("http://[::ffff:127.0.0.1]/a.png", "an IPv6 form of 127.0.0.1, a loopback address"),
    ("http://[::ffff:7f00:1]/a.png", "an IPv6 form of 127.0.0.1, a loopback address"),
    ("http://[64:ff9b::a9fe:a9fe]/a.png", "an IPv6 form of 169.254.169.254, a link-local address"),
    ("http://[2002:c0a8:101::1]/a.png", "an IPv6 form of 192.168.1.1, a private address"),
    ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
    ("http://[fe80::1]/a.png", "a link-local address"),
    ("http://10.1.2.3/a.png", "a private address"),
    ("http://172.31.0.1/a.png", "a private address"),
    ("http://192.168.0.10/a.png", "a private address"),
    ("http://100.100.100.200/a.png", "a shared (CGNAT) address"),
    ("http://[fd12:3456::1]/a.png", "a unique local address"),
    ("http://224.0.0.251/a.png", "a multicast address"),
    ("http://[ff02::1]/a.png", "a multicast address"),
    ("http://0.0.0.0/a.png", "the unspecified address"),
    ("http://[::]/a.png", "the unspecified address"),
    ("http://localhost/a.png", "this machine"),
    ("http://LOCALHOST./a.png", "this machine"),
    ("http://images.localhost/a.png", "this machine"),
])
def test_a_media_url_naming_a_non_public_address_is_refused_naming_the_field(url: str, kind: str) -> None:
    # Given an item whose second medium names a non-public address / When it is parsed
    with pytest.raises(InvalidItem) as caught:
        _item_with_media(url)
    # Then it is refused, naming the field and what the address is
    message = str(caught.value)
    assert "media.1.url" in message and "media URL must name a public host" in message and kind in message


@pytest.mark.parametrize("url", ["https://cdn.example.com/a.png", "http://8.8.8.8/a.png",
                                 "http://[2606:4700:4700::1111]/a.png", "http://[64:ff9b::808:808]/a.png",
                                 "https://xn--bcher-kva.example/a.png", "https://1e100.net/a.png"])
def test_a_media_url_naming_a_public_host_is_accepted(url: str) -> None:
    _item_with_media(url)


def test_the_test_switch_opens_loopback_and_nothing_else() -> None:
    # Given the process-level switch a test harness sets
    allow_loopback_fetches(True)
    try:
        # Then loopback and localhost are accepted, private and link-local still refused
        _item_with_media("http://127.0.0.1:8080/a.png")
        _item_with_media("http://localhost:8080/a.png")
        for url in ("http://10.0.0.1/a.png", "http://169.254.169.254/", "http://[::ffff:127.0.0.1]/a.png"):
            with pytest.raises(InvalidItem):
                _item_with_media(url)
    finally:
        allow_loopback_fetches(False)
    # And off again, loopback is refused
    with pytest.raises(InvalidItem):
        _item_with_media("http://127.0.0.1:8080/a.png")


def test_the_environment_switch_for_test_workers_opens_loopback_with_a_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a worker process started by a test with the unmistakable variable set
    monkeypatch.setenv(LOOPBACK_ENV, "1")
    monkeypatch.setattr(addresses, "_warned", False)
    # When a loopback media URL is checked / Then it passes, and the process warns once
    with capture_logs() as logs:
        _item_with_media("http://127.0.0.1:8080/a.png")
        _item_with_media("http://127.0.0.1:8081/a.png")
    warnings = [e for e in logs if e["event"] == "fetching.loopback_allowed"]
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"
    # And any other value leaves it closed
    monkeypatch.setenv(LOOPBACK_ENV, "true")
    with pytest.raises(InvalidItem):
        _item_with_media("http://127.0.0.1:8080/a.png")
