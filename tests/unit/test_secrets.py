"""Redaction of secret values and token shapes, in any text."""

from __future__ import annotations

import threading

import pytest

from syndicate.base.secrets import Credentials, SecretRef, SecretSource, add_secret, parse_ref, redact


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Authorization: Bearer abc.def-ghi~jkl", "abc.def-ghi~jkl"),
        ("GET /x?h=Bearer%20abcd%2Fefgh%3D%3Dxyz next", "abcd%2Fefgh"),
        ("https://api.example/v2?api_key=sk_live_0123456789&x=1", "sk_live_0123456789"),
        ('{"auth_key": "0123456789abcdef:fx"}', "0123456789abcdef"),
        ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw here", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ('Authorization: OAuth oauth_consumer_key="ck", oauth_signature="sig%3D"', "sig%3D"),
    ],
)
def test_token_shapes_are_redacted(text: str, hidden: str) -> None:
    out = redact(text)
    assert hidden not in out
    assert "[REDACTED]" in out


def test_registered_values_are_redacted_wherever_they_appear() -> None:
    add_secret("s3cr3t-value-for-test")
    assert redact("the platform said: bad key s3cr3t-value-for-test!") == "the platform said: bad key [REDACTED]!"


def test_a_value_registered_after_a_text_was_redacted_is_hidden_in_it_the_next_time() -> None:
    # An answer kept for a text seen before would miss a value registered after it (short and long texts).
    short = "the answer was later-registered-value-7f3"
    long = short + " " + "x" * 300
    assert redact(short) == short and redact(long) == long
    add_secret("later-registered-value-7f3")
    assert redact(short) == "the answer was [REDACTED]"
    assert redact(long) == "the answer was [REDACTED] " + "x" * 300


def test_values_registered_while_other_threads_redact_are_hidden_as_soon_as_registered() -> None:
    values = [f"concurrent-secret-{n:03d}-value" for n in range(60)]
    stop = threading.Event()

    def redact_all() -> None:
        while not stop.is_set():
            for v in values:
                redact(f"x {v} y")

    readers = [threading.Thread(target=redact_all) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for v in values:
            add_secret(v)
            # Whatever the readers computed meanwhile, this thread, and every later call, sees it hidden.
            assert redact(f"x {v} y") == "x [REDACTED] y"
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert all(redact(f"x {v} y") == "x [REDACTED] y" for v in values)


def test_credentials_resolve_from_env_then_file_and_never_show_values() -> None:
    source = SecretSource(environ={"A": "from-env-value"}, file_values={"A": "file", "B": "from-file-value"})
    creds = Credentials("acct", {"a": SecretRef("A"), "b": SecretRef("B"), "c": SecretRef("C")}, source)
    assert creds.get("a") == "from-env-value" and creds.get("b") == "from-file-value"
    assert creds.missing() == [("c", "C")]
    assert "from-env-value" not in repr(creds)
    with pytest.raises(Exception, match="credential 'c' needs the environment variable C, which is not set"):
        creds.get("c")
    assert redact("x from-file-value y") == "x [REDACTED] y"


@pytest.mark.parametrize("value", ["hunter2", "$X", "${lower-case}", "${X}tail", 42])
def test_only_env_references_are_accepted_as_credentials(value: object) -> None:
    with pytest.raises(ValueError):
        parse_ref(value)
