"""Each channel's fake, account and oracle, behind one small interface for the fault matrix.

A :class:`Channel` starts its loopback fake, writes the ``accounts.yaml`` entry of one account
pointed at it (or at a URL that refuses connections), gives the environment its ``${VAR}``
credentials resolve in, builds faults shaped as that platform answers (its error bodies, its rate
limit headers), and counts the posts the fake holds: the oracle for duplicates and losses.

Every credential value is derived from ``secret`` (``SECRET-CANARY-...`` in the secrets sweep), and
the fakes accept exactly those values.
"""

from __future__ import annotations

import base64
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tests.fakes.base import FakeServer, Fault
from tests.fakes.linkedin import FakeLinkedIn, TokenGrant
from tests.fakes.webhook_receiver import FakeWebhookReceiver
from tests.fakes.websub import FakeHub
from tests.fakes.wordpress import FakeWordPress, WpUser
from tests.fakes.x import DUPLICATE_BODY, FakeX

__all__ = ["CHANNELS", "Channel", "make_channel"]

ATOM = "{http://www.w3.org/2005/Atom}"
AUTHOR = "urn:li:organization:2414183"
PUBLIC = "https://partners.example.com/feeds"
#: Seconds in a Retry-After or a rate-limit reset the faults ask for.
WAIT_S = 120


@dataclass
class Channel:
    """One channel under test. Subclasses fill in the platform's specifics."""

    secret: str
    workdir: Path
    read_timeout_s: float = 0.5
    fake: FakeServer = field(init=False)

    name = "?"
    account_id = "acct"
    create_method = "POST"
    create_path = ""
    #: The request ``find_existing`` makes to look for a post (None: the channel looks nowhere).
    search_path: ClassVar[str | None] = None

    def __post_init__(self) -> None:
        """Subclasses build their fake here."""

    def start(self) -> None:
        self.fake.start()

    def stop(self) -> None:
        self.fake.stop()

    def account(self, base_url: str) -> dict[str, Any]:
        raise NotImplementedError

    def environ(self) -> dict[str, str]:
        return {}

    def posts(self) -> int:
        """Posts the platform holds (each test makes one publication)."""
        raise NotImplementedError

    def secret_forms(self) -> list[str]:
        """Every form in which a credential could leak: as given, and as encoded on the wire."""
        return [self.secret]

    @property
    def credential(self) -> str:
        """The credential a careless platform would echo back (the one it received)."""
        return self.secret

    # -- faults shaped as the platform answers --------------------------------------------------

    def fault(self, kind: str, **kw: Any) -> Fault:
        return Fault(kind, method=self.create_method, path=self.create_path, **kw)

    def error(self, status: int, message: str, *, when: str = "before", headers: dict[str, str] | None = None
              ) -> Fault:
        """The platform's error answer with ``status``; the message echoes the credential (as a careless
        platform might) in the body and in a header."""
        body, base_headers = self.error_body(status, f"{message} (credential seen: {self.credential})")
        return self.fault("status", when=when, status=status, body=body,
                          headers={**base_headers, "X-Debug-Credential": self.credential, **(headers or {})})

    def error_body(self, status: int, message: str) -> tuple[Any, dict[str, str]]:
        return {"status": status, "message": message}, {}

    def rate_limited(self) -> Fault:
        return self.error(429, "Too Many Requests", headers={"Retry-After": str(WAIT_S)})

    def search_fault(self, status: int) -> Fault:
        """The platform's error answer to the next search for a post."""
        assert self.search_path is not None
        body, headers = self.error_body(status, "search failed")
        return Fault("status", method="GET", path=self.search_path, status=status, body=body, headers=headers)

    def permalink_of_only_post(self) -> str:
        """The public URL of the one post the fake holds (what an operator finds by hand)."""
        raise NotImplementedError

    def duplicate(self) -> Fault:
        return self.error(403, "You are not allowed to create a post with duplicate content.")


class XChannel(Channel):
    name = "x"
    account_id = "x-na"
    create_path = r"^/2/tweets$"
    search_path = r"^/2/users/\d+/tweets$"

    def __post_init__(self) -> None:
        fake = FakeX()
        fake.consumer_key = f"{self.secret}-ck"
        fake.consumer_secret = f"{self.secret}-cs"
        fake.access_token = f"{self.secret}-at"
        fake.access_token_secret = f"{self.secret}-ats"
        self.fake = fake

    def account(self, base_url: str) -> dict[str, Any]:
        return {"adapter": "x", "base_url": base_url, "connect_timeout_s": 1, "read_timeout_s": self.read_timeout_s,
                "credentials": FakeX.oauth1_credentials(),
                "options": {"username": "example", "reconcile_settle_s": 0}}

    def environ(self) -> dict[str, str]:
        f = self.fake
        assert isinstance(f, FakeX)
        return {"X_CONSUMER_KEY": f.consumer_key, "X_CONSUMER_SECRET": f.consumer_secret,
                "X_ACCESS_TOKEN": f.access_token, "X_ACCESS_TOKEN_SECRET": f.access_token_secret}

    def posts(self) -> int:
        assert isinstance(self.fake, FakeX)
        return len(self.fake.posts)

    def secret_forms(self) -> list[str]:
        return [self.secret, *self.environ().values()]

    def permalink_of_only_post(self) -> str:
        assert isinstance(self.fake, FakeX)
        [post] = self.fake.posts
        return f"https://x.com/example/status/{post.id}"

    def error_body(self, status: int, message: str) -> tuple[Any, dict[str, str]]:
        return ({"title": "Error", "type": "about:blank", "status": status, "detail": message},
                {"Content-Type": "application/problem+json"})

    def rate_limited(self) -> Fault:
        reset = str(int(time.time()) + WAIT_S)
        return self.error(429, "Too Many Requests", headers={"x-rate-limit-limit": "100",
                                                             "x-rate-limit-remaining": "0",
                                                             "x-rate-limit-reset": reset})

    @property
    def credential(self) -> str:
        assert isinstance(self.fake, FakeX)
        return self.fake.access_token

    def duplicate(self) -> Fault:
        return self.fault("status", status=403, body={**DUPLICATE_BODY, "echo": self.credential},
                          headers={"Content-Type": "application/problem+json", "X-Debug-Credential": self.credential})


class LinkedInChannel(Channel):
    name = "linkedin"
    account_id = "li"
    create_path = r"^/rest/posts$"
    search_path = r"^/rest/posts$"

    def __post_init__(self) -> None:
        self.fake = FakeLinkedIn({self.secret: TokenGrant({AUTHOR})})

    def account(self, base_url: str) -> dict[str, Any]:
        return {"adapter": "linkedin", "base_url": base_url, "connect_timeout_s": 1,
                "read_timeout_s": self.read_timeout_s, "credentials": {"access_token": "${LI_TOKEN}"},
                "options": {"author": AUTHOR}}

    def environ(self) -> dict[str, str]:
        return {"LI_TOKEN": self.secret}

    def posts(self) -> int:
        assert isinstance(self.fake, FakeLinkedIn)
        return len(self.fake.created())

    def permalink_of_only_post(self) -> str:
        assert isinstance(self.fake, FakeLinkedIn)
        [post] = self.fake.created()
        return f"https://www.linkedin.com/feed/update/{post['id']}"

    def error_body(self, status: int, message: str) -> tuple[Any, dict[str, str]]:
        return {"status": status, "message": message, "code": "ERROR"}, {}


class WordPressChannel(Channel):
    name = "wordpress"
    account_id = "blog"
    create_path = r"^/wp-json/wp/v2/posts$"
    search_path = r"^/wp-json/wp/v2/posts$"

    def __post_init__(self) -> None:
        self.fake = FakeWordPress({"editor": WpUser(self.secret)})

    def start(self) -> None:
        super().start()
        assert isinstance(self.fake, FakeWordPress)
        self.fake.add_term("tags", "testing")

    def account(self, base_url: str) -> dict[str, Any]:
        return {"adapter": "wordpress", "base_url": base_url, "connect_timeout_s": 1,
                "read_timeout_s": self.read_timeout_s,
                "credentials": {"username": "${WP_USER}", "app_password": "${WP_PASS}"}}

    def environ(self) -> dict[str, str]:
        return {"WP_USER": "editor", "WP_PASS": self.secret}

    def posts(self) -> int:
        assert isinstance(self.fake, FakeWordPress)
        return len(self.fake.posts)

    def permalink_of_only_post(self) -> str:
        assert isinstance(self.fake, FakeWordPress)
        [post_id] = self.fake.posts
        return f"{self.fake.url}/?p={post_id}"

    def secret_forms(self) -> list[str]:
        return [self.secret, base64.b64encode(f"editor:{self.secret}".encode()).decode()]

    def error_body(self, status: int, message: str) -> tuple[Any, dict[str, str]]:
        return {"code": "rest_error", "message": message, "data": {"status": status}}, {}


class WebhooksChannel(Channel):
    name = "webhooks"
    account_id = "partner-hook"
    create_path = r"^/hooks$"

    def __post_init__(self) -> None:
        raw = self.secret.encode().ljust(24, b"-")[:64]
        self.whsec = "whsec_" + base64.b64encode(raw).decode()
        self.fake = FakeWebhookReceiver(self.whsec)

    def account(self, base_url: str) -> dict[str, Any]:
        return {"adapter": "webhooks", "base_url": f"{base_url}/hooks", "connect_timeout_s": 1,
                "read_timeout_s": self.read_timeout_s, "credentials": {"secret": "${HOOK_SECRET}"}}

    def environ(self) -> dict[str, str]:
        return {"HOOK_SECRET": self.whsec}

    def posts(self) -> int:
        assert isinstance(self.fake, FakeWebhookReceiver)
        return len(self.fake.deliveries)

    def secret_forms(self) -> list[str]:
        return [self.secret, self.whsec, self.whsec.removeprefix("whsec_")]

    @property
    def credential(self) -> str:
        return self.whsec


class FeedsChannel(Channel):
    """Partner feeds: the post is an entry in a file; the faults hit the WebSub hub's ping."""

    name = "feeds"
    account_id = "partner-a"
    create_path = r"^/hub$"

    def __post_init__(self) -> None:
        self.fake = FakeHub()

    def account(self, base_url: str) -> dict[str, Any]:
        return {"adapter": "feeds", "connect_timeout_s": 1, "read_timeout_s": self.read_timeout_s,
                "options": {"directory": str(self.workdir / "feeds"), "public_url": PUBLIC, "hub": f"{base_url}/hub"}}

    def posts(self) -> int:
        path = self.workdir / "feeds" / self.account_id / "en-US.atom"
        if not path.exists():
            return 0
        root = ET.fromstring(path.read_bytes())  # noqa: S314 - the feed this test just wrote
        return len(list(root.iter(f"{ATOM}entry")))


CHANNELS: dict[str, type[Channel]] = {c.name: c for c in (XChannel, LinkedInChannel, WordPressChannel,
                                                          WebhooksChannel, FeedsChannel)}


def make_channel(name: str, secret: str, workdir: Path, **kw: Any) -> Channel:
    """A :class:`Channel` by adapter name."""
    return CHANNELS[name](secret, workdir, **kw)
