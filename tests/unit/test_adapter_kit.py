"""The adapter kit: ``Adapter[Options]`` types an adapter's options, the in-process account state
keeps its promises, and ``HttpAdapter`` sends within the account's limits and maps every failure by
phase and status (real HTTP on loopback against a fake that fails from the socket)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, ConfigDict

from syndicate.base.secrets import Credentials
from syndicate.channels import (
    AccountContext,
    Adapter,
    ConfigError,
    HttpAdapter,
    InDoubt,
    Limits,
    MemoryState,
    NoOptions,
    PermanentError,
    PostContent,
    PublicationRef,
    RateLimited,
    Receipt,
    Rendered,
    StatusMap,
    TransientError,
)
from tests.fakes.base import FakeServer, Fault, Response, refused_url


class NotesOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_length: int = 100


class OtherOptions(BaseModel):
    colour: str = "blue"


class Notes(HttpAdapter[NotesOptions]):
    """A whole HTTP adapter on the kit: what remains is the platform's own code."""

    name = "notes"
    statuses = StatusMap(platform="Notes")
    max_answer_bytes = 1024

    @property
    def limits(self) -> Limits:
        return Limits(max_length=self.options.max_length)

    def render(self, content: PostContent) -> Rendered:
        return Rendered(text=content.title, length=len(content.title), limit=self.options.max_length,
                        link=content.link)

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        resp = self.request("POST", self.url_for("/notes"), creates=True, what="the note", expect=(201,),
                            json={"text": rendered.text})
        body = self.json(resp, creates=True, what="the note")
        return Receipt(remote_id=str(body["id"]), permalink=str(body["url"]))

    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        resp = self.request("GET", self.url_for("/notes"), creates=False, what="listing the notes", expect=(200,))
        found = self.json(resp, creates=False, what="listing the notes")
        return Receipt(remote_id=found[0]["id"], permalink=found[0]["url"]) if found else None

    def wait_until(self) -> datetime:
        return datetime(2030, 1, 1, tzinfo=UTC)


def _context(base_url: str | None, options: BaseModel | None = None, read_timeout_s: float = 2.0) -> AccountContext:
    return AccountContext(id="notes-a", options=options or NotesOptions(), credentials=Credentials("notes-a", {}),
                          base_url=base_url, connect_timeout_s=1.0, read_timeout_s=read_timeout_s)


RENDERED = Rendered(text="hello", length=5, limit=100, link="https://example.com/p")
PUB = PublicationRef(id=1, key="i/1/en-US/notes-a/0", item_id="i", revision=1, locale="en-US", account="notes-a",
                     slot=0, tagged_url="https://example.com/p", marker="m1", scheduled_for=datetime.now(UTC))


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        server.route("POST", "/notes", lambda req: Response(201, {"id": "n1", "url": f"{server.url}/n1"}))
        server.route("GET", "/notes", lambda req: Response(200, []))
        yield server


# -- Adapter[Options] ------------------------------------------------------------------------------


def test_the_type_argument_is_the_options_model_and_types_the_options() -> None:
    # Given an adapter declared as HttpAdapter[NotesOptions], without an Options line
    adapter = Notes(_context("http://127.0.0.1:9", NotesOptions(max_length=42)))
    # Then its Options is that model, and its options are the account's, typed
    assert Notes.Options is NotesOptions
    assert adapter.options.max_length == 42


def test_an_adapter_without_a_type_argument_takes_no_options() -> None:
    class Bare(Adapter):
        name = "bare"

    assert Bare.Options is NoOptions


def test_an_options_line_that_contradicts_the_type_argument_is_refused_at_once() -> None:
    # When a class says one model in its base and another in its body / Then it cannot be defined
    with pytest.raises(TypeError, match="declares Options = OtherOptions but subclasses HttpAdapter\\[NotesOptions\\]"):
        class Confused(HttpAdapter[NotesOptions]):
            Options = OtherOptions


def test_a_subclass_of_an_adapter_inherits_its_options_or_narrows_them() -> None:
    # Given a subclass that says nothing, and one that names a narrower model
    class Child(Notes):
        pass

    class StrictNotesOptions(NotesOptions):
        max_length: int = 50

    class Strict(Notes):
        Options = StrictNotesOptions

    # Then the first keeps its parent's model and the second has its own
    assert Child.Options is NotesOptions and Strict.Options is StrictNotesOptions
    assert Strict(_context("http://127.0.0.1:9", StrictNotesOptions())).options.max_length == 50


def test_options_of_another_model_are_a_bug_named_when_read() -> None:
    # Given an adapter built with options of another model (a mistake in the code building it)
    adapter = Notes(_context("http://127.0.0.1:9", OtherOptions()))
    # When its options are read / Then it says which model it got and which it wanted
    with pytest.raises(TypeError, match="account 'notes-a': options are a OtherOptions, not NotesOptions"):
        _ = adapter.options


# -- the account state in one process --------------------------------------------------------------


def test_memory_state_writes_only_over_the_version_it_was_given() -> None:
    state = MemoryState()
    # Given nothing stored / When two writers both expect "unset" / Then only the first writes
    assert state.put("k", {"a": 1}, expect_version=None)
    assert not state.put("k", {"a": 2}, expect_version=None)
    assert state.get("k") == ({"a": 1}, 1)
    # And a writer with the current version moves it on
    assert state.put("k", {"a": 3}, expect_version=1)
    assert state.get("k") == ({"a": 3}, 2)


def test_memory_state_lock_keeps_a_second_holder_out_until_released() -> None:
    state = MemoryState()
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with state.lock("refresh"):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(5)
    # When another takes the lock while it is held / Then it gives up after its wait
    with pytest.raises(TimeoutError, match="'refresh'"), state.lock("refresh", wait=timedelta(milliseconds=50)):
        pass
    release.set()
    thread.join(5)
    # And once released it is free
    with state.lock("refresh", wait=timedelta(seconds=1)):
        pass


# -- HttpAdapter -----------------------------------------------------------------------------------


def test_a_create_that_is_answered_as_asked_gives_the_receipt(fake: FakeServer) -> None:
    adapter = Notes(_context(fake.url))
    receipt = adapter.publish(RENDERED, PUB)
    assert receipt.remote_id == "n1" and [r.json() for r in fake.requests] == [{"text": "hello"}]


def test_a_redirect_is_not_followed_and_is_a_refusal(fake: FakeServer) -> None:
    # Given a platform that redirects the create elsewhere
    fake.fail_next(Fault("status", status=302, headers={"Location": "https://elsewhere.example/notes"}))
    # When published / Then nothing follows the redirect, and it fails for good with its status
    with pytest.raises(PermanentError, match="HTTP 302") as info:
        Notes(_context(fake.url)).publish(RENDERED, PUB)
    assert len(fake.requests) == 1
    assert info.value.status == 302


def test_a_refused_connection_sent_nothing_so_it_is_transient() -> None:
    with pytest.raises(TransientError, match="cannot reach Notes \\(the note\\): cannot connect") as info:
        Notes(_context(refused_url())).publish(RENDERED, PUB)
    assert "Connection refused" in str(info.value)


def test_no_answer_after_a_create_was_sent_is_in_doubt_and_after_a_read_transient(fake: FakeServer) -> None:
    # Given a platform that acts on each request, then stalls past the read timeout
    adapter = Notes(_context(fake.url, read_timeout_s=0.3))
    fake.fail_next(Fault("stall", when="after", seconds=1.0, method="POST"))
    fake.fail_next(Fault("stall", when="after", seconds=1.0, method="GET"))
    # When a create and a read are sent / Then the create may have been made, the read is retried
    with pytest.raises(InDoubt, match="no answer came back \\(the note\\): ReadTimeout; the post may exist"):
        adapter.publish(RENDERED, PUB)
    with pytest.raises(TransientError, match="no answer came back \\(listing the notes\\)"):
        adapter.find_existing(RENDERED, PUB)


def test_an_answer_over_the_cap_is_read_no_further_and_a_create_is_then_in_doubt(fake: FakeServer) -> None:
    # Given a create answered with 64 KiB where the adapter reads 1 KiB
    fake.route("POST", "/big", lambda req: Response(201, {"id": "n2", "pad": "x" * 65536}))
    adapter = Notes(_context(fake.url))
    resp = adapter.request("POST", adapter.url_for("/big"), creates=True, what="the note", expect=(201,))
    # Then only the cap was read, and its JSON is not taken for an answer
    assert len(resp.content) == 1024
    with pytest.raises(InDoubt, match="cut short"):
        adapter.json(resp, creates=True, what="the note")


def test_a_read_answered_with_something_that_is_not_json_is_transient(fake: FakeServer) -> None:
    fake.fail_next(Fault("malformed", when="after", method="GET"))
    with pytest.raises(TransientError, match="answered 200 to listing the notes with a body that is not JSON"):
        Notes(_context(fake.url)).find_existing(RENDERED, PUB)


def test_a_429_without_a_time_waits_until_the_adapter_says(fake: FakeServer) -> None:
    fake.fail_next(Fault("status", status=429, body={"error": "slow down"}))
    with pytest.raises(RateLimited) as info:
        Notes(_context(fake.url)).publish(RENDERED, PUB)
    assert info.value.until == datetime(2030, 1, 1, tzinfo=UTC)
    assert info.value.platform_message == '{"error": "slow down"}'


def test_closing_drops_the_session_and_the_next_request_opens_another(fake: FakeServer) -> None:
    adapter = Notes(_context(fake.url))
    first = adapter.session
    adapter.close()
    assert adapter.session is not first
    assert adapter.publish(RENDERED, PUB).remote_id == "n1"


def test_an_account_without_a_base_url_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"accounts\.notes-a\.base_url: a notes account needs base_url"):
        Notes(_context(None)).publish(RENDERED, PUB)

