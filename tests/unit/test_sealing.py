"""Sealing secrets the ledger keeps: Fernet under keys from the environment, newest first."""

from __future__ import annotations

import pytest

from syndicate.base.sealing import Sealer, SealError, new_key


def test_a_sealed_value_opens_with_its_key_and_does_not_show_the_secret() -> None:
    sealer = Sealer(new_key())
    sealed = sealer.seal("refresh-token-value")
    assert sealed.startswith("fernet:") and "refresh-token-value" not in sealed
    assert sealer.open(sealed) == ("refresh-token-value", False)


def test_a_value_sealed_with_an_older_key_opens_and_is_reported_stale() -> None:
    old, new = new_key(), new_key()
    sealed = Sealer(old).seal("t")
    assert Sealer(f"{new}, {old}").open(sealed) == ("t", True)
    assert Sealer(f"{new},{old}").open(Sealer(f"{new},{old}").seal("t")) == ("t", False)


def test_an_unsealed_value_is_returned_as_stale_and_a_foreign_one_is_refused() -> None:
    sealer = Sealer(new_key())
    assert sealer.open("plain") == ("plain", True)
    with pytest.raises(SealError, match="none of the configured keys"):
        sealer.open(Sealer(new_key()).seal("t"))


@pytest.mark.parametrize("keys", ["", " , ", "not-a-key", "c2hvcnQ="])
def test_a_key_setting_without_a_valid_key_is_refused(keys: str) -> None:
    with pytest.raises(SealError):
        Sealer(keys)
