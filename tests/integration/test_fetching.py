"""The guarded fetcher reaches public addresses only, checks every hop, and bounds bytes and time.

Loopback fakes stand in for the internet: a test that needs one to be reachable opens loopback
with the ``loopback_fetches`` fixture (the only way besides the test-only environment variable),
and a test that checks a refusal leaves it closed. Non-public addresses other than loopback come
from a resolver passed to :func:`fetch` (the seam for DNS): they are refused before any
connection, so nothing in the sandbox needs to answer on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate.channels.fetching import fetch
from syndicate.errors import FetchRefused, FetchUnavailable
from tests.fakes.base import FakeServer, Fault, Response, refused_url
from tests.fakes.tls import server_context

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
IMAGES = frozenset({"image/png", "image/jpeg"})
LIMIT = timedelta(seconds=5)


@pytest.fixture
def site() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        fake.route("GET", "/a.png", lambda req: Response(200, PNG, {"Content-Type": "image/png"}))
        fake.route("GET", "/page", lambda req: Response(200, "<html></html>", {"Content-Type": "text/html"}))
        yield fake


def _get(url: str, **kw: object) -> bytes:
    options: dict[str, object] = {"max_bytes": 1024 * 1024, "time_limit": LIMIT, "content_types": IMAGES}
    options.update(kw)
    return fetch(url, **options).data  # type: ignore[arg-type]


def test_loopback_is_refused_without_the_test_switch_and_nothing_is_sent(site: FakeServer) -> None:
    # Given a server on loopback, and loopback not opened
    # When a fetch names it / Then it is refused before any request reaches it
    with pytest.raises(FetchRefused, match="does not lead to a public address"):
        _get(f"{site.url}/a.png")
    assert site.requests == []


def test_the_refusal_reads_the_same_whether_a_port_answers_or_not(site: FakeServer) -> None:
    # Given one loopback port that answers and one that does not
    # When both are fetched / Then the errors are identical: nothing tells a scanner which is open
    errors = []
    for url in (f"{site.url}/a.png", f"{refused_url()}/a.png"):
        with pytest.raises(FetchRefused) as caught:
            _get(url)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "169.254.169.254", "0.0.0.0", "224.0.0.1",  # noqa: S104
    "fe80::1", "fd00::1", "::1", "::", "ff02::1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe", "2002:a00:1::1", "fec0::1",
])
def test_a_name_resolving_to_a_non_public_address_is_refused_before_connecting(address: str) -> None:
    # Given a public-looking name that resolves to a non-public address (directly or embedded)
    def resolver(host: str, port: int) -> list[str]:
        return [address]

    # When fetched / Then it is refused (not "unavailable": no connection was tried)
    with pytest.raises(FetchRefused, match="does not lead to a public address"):
        _get("http://images.example.com/a.png", resolver=resolver)


def test_one_non_public_address_among_public_ones_refuses_the_name() -> None:
    # Given a name that resolves to a public and a private address / Then it is refused
    with pytest.raises(FetchRefused):
        _get("http://images.example.com/a.png", resolver=lambda h, p: ["93.184.216.34", "10.1.2.3"])


@pytest.mark.usefixtures("loopback_fetches")
def test_the_connection_goes_to_the_address_checked_and_carries_the_name(site: FakeServer) -> None:
    # Given a name our resolver maps to the (loopback, opened) fake, once, and to a private address after
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["10.0.0.1"]

    port = site.url.rsplit(":", 1)[1]
    # When fetched
    data = _get(f"http://images.example.test:{port}/a.png", resolver=rebinding)
    # Then the name was resolved once, the checked address was used, and the Host header kept the name
    assert data == PNG and calls == ["images.example.test"]
    assert site.requests[0].header("Host") == f"images.example.test:{port}"


@pytest.mark.usefixtures("loopback_fetches")
@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:10.0.0.1]/",
                                    "http://0x0a000001/", "http://internal.example.test/"])
def test_a_redirect_to_a_non_public_address_is_refused_on_that_hop(site: FakeServer, target: str) -> None:
    # Given an allowed server that redirects to a non-public address (the name resolves to one)
    site.route("GET", "/moved.png", lambda req: Response(302, b"", {"Location": target}))

    def resolver(host: str, port: int) -> list[str]:
        return ["10.9.9.9"]

    # When fetched / Then the hop is refused before connecting
    with pytest.raises(FetchRefused, match="does not lead to a public address"):
        _get(f"{site.url}/moved.png", resolver=resolver)


@pytest.mark.usefixtures("loopback_fetches")
def test_redirects_are_followed_up_to_the_limit(site: FakeServer) -> None:
    # Given a redirect to the image, and a redirect loop
    site.route("GET", "/once.png", lambda req: Response(301, b"", {"Location": "/a.png"}))
    site.route("GET", "/loop.png", lambda req: Response(302, b"", {"Location": "/loop.png"}))
    # Then one hop is followed, and a loop ends after the limit
    assert _get(f"{site.url}/once.png") == PNG
    with pytest.raises(FetchRefused, match="more than 3 redirects"):
        _get(f"{site.url}/loop.png")
    assert len([r for r in site.requests if r.path == "/loop.png"]) == 4


@pytest.mark.usefixtures("loopback_fetches")
def test_an_answer_over_the_byte_cap_is_refused(site: FakeServer) -> None:
    # Given an image of 2 kB, and an answer of 10 MB, both over a cap of 1,000 bytes
    # When fetched / Then both are refused as too large
    with pytest.raises(FetchRefused, match="larger than 1,000 bytes"):
        _get(f"{site.url}/a.png", max_bytes=1000)
    site.fail_next(Fault("huge", size=10 * 1024 * 1024, path="/a.png"))
    with pytest.raises(FetchRefused, match="larger than 1,000 bytes"):
        _get(f"{site.url}/a.png", max_bytes=1000, content_types={"application/json"})


@pytest.mark.usefixtures("loopback_fetches")
def test_an_answer_dripped_past_the_time_limit_is_cut_off(site: FakeServer) -> None:
    # Given an image dripped one byte every 50 ms (2 kB: far longer than the 0.5 s limit)
    site.fail_next(Fault("drip", when="after", path="/a.png", seconds=0.05))
    # When fetched / Then it ends as unavailable at the time limit
    with pytest.raises(FetchUnavailable, match="within the time limit"):
        _get(f"{site.url}/a.png", time_limit=timedelta(seconds=0.5))


@pytest.mark.usefixtures("loopback_fetches")
def test_a_content_type_not_asked_for_is_refused(site: FakeServer) -> None:
    with pytest.raises(FetchRefused, match="text/html is not one of image/jpeg, image/png"):
        _get(f"{site.url}/page")


@pytest.mark.usefixtures("loopback_fetches")
def test_https_sends_the_host_name_and_verifies_the_certificate_against_it(tmp_path: Path) -> None:
    # Given an https server on loopback whose certificate names "localhost", and one for another name
    good, wrong = server_context(tmp_path, "localhost"), server_context(tmp_path, "images.example.com")
    servers = []
    for tls in (good, wrong):
        server = FakeServer()
        server.tls = tls.context
        server.route("GET", "/a.png", lambda req: Response(200, PNG, {"Content-Type": "image/png"}))
        servers.append(server.start())
    try:
        port_good, port_wrong = (s.url.rsplit(":", 1)[1] for s in servers)
        # When fetched by the name "localhost" / Then the name went in SNI and the right certificate passes
        assert _get(f"https://localhost:{port_good}/a.png", ca_certs=good.ca_file) == PNG
        assert "localhost" in good.sni
        # And a certificate for another name is refused, though the address was allowed
        with pytest.raises(FetchRefused, match="certificate could not be verified"):
            _get(f"https://localhost:{port_wrong}/a.png", ca_certs=wrong.ca_file)
    finally:
        for s in servers:
            s.stop()
