"""Secrets the worker has to keep in the ledger, sealed with keys that only the environment holds.

Some credentials cannot stay in the environment: X rotates an OAuth 2 refresh token on every
refresh, so the live pair lives in the ledger, where every worker finds it. Stored as it is, it
would be readable by anyone who can read the database, its backups or its replicas. :class:`Sealer`
encrypts such a value with Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key
given by the environment; what the ledger holds is ``fernet:<token>``.

Rotation: a key setting holds one or more keys separated by commas, newest first. Values are sealed
with the first; any of them opens a value; a value opened with an older key (or found unsealed, as
written before sealing existed) is reported as stale, so the caller seals it again with the newest
key. To rotate: put the new key first (``NEW,OLD``), restart the workers, let every account refresh
or publish once, then drop the old key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["PREFIX", "SealError", "Sealer", "new_key"]

#: What a sealed value starts with.
PREFIX = "fernet:"


class SealError(ValueError):
    """A key setting is not valid, or a sealed value opens with none of its keys."""


def new_key() -> str:
    """A fresh key (32 random bytes, URL-safe base64), as a key setting takes it."""
    return Fernet.generate_key().decode("ascii")


class Sealer:
    """Seals and opens values with the keys of one key setting.

    Args:
        keys: one or more Fernet keys separated by commas, the newest (the one that seals) first.

    Raises:
        SealError: no key, or a key that is not 32 URL-safe base64-encoded bytes.
    """

    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise SealError("no key given")
        try:
            fernets = [Fernet(k.encode("ascii")) for k in parts]
        except (ValueError, UnicodeEncodeError):
            raise SealError("a key is not a Fernet key (32 URL-safe base64-encoded bytes)") from None
        self._newest = fernets[0]
        self._all = MultiFernet(fernets)

    def seal(self, secret: str) -> str:
        """``secret`` sealed with the newest key."""
        return PREFIX + self._newest.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, stored: str) -> tuple[str, bool]:
        """The secret in ``stored`` and whether it should be sealed again (older key, or unsealed).

        Raises:
            SealError: ``stored`` is sealed with none of the keys (or damaged).
        """
        if not stored.startswith(PREFIX):
            return stored, True
        token = stored[len(PREFIX):].encode("ascii")
        try:
            secret = self._all.decrypt(token).decode("utf-8")
        except InvalidToken:
            raise SealError("the value is sealed with none of the configured keys") from None
        try:
            self._newest.decrypt(token)
        except InvalidToken:
            return secret, True
        return secret, False
