"""Every log event name the code emits is documented for ops in docs/operations.md."""

from __future__ import annotations

import re

from tests.helpers import REPO

#: ``log.info("publication.published", ...)`` and friends, possibly with the name on the next line.
EVENT_CALL = re.compile(r"\.(?:debug|info|warning|error|exception|critical)\(\s*\"([a-z0-9_]+(?:\.[a-z0-9_]+)+)\"")


def emitted_events() -> dict[str, str]:
    """Event name → the first file that emits it, over syndicate/ and adapters/."""
    found: dict[str, str] = {}
    for folder in ("syndicate", "adapters"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for name in EVENT_CALL.findall(path.read_text(encoding="utf-8")):
                found.setdefault(name, str(path.relative_to(REPO)))
    return found


def test_every_emitted_event_name_is_documented_in_operations_md() -> None:
    # Given the event names in the code and the operations guide
    events = emitted_events()
    doc = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    # When each is looked up as `name` in the guide
    missing = {name: where for name, where in events.items() if f"`{name}`" not in doc}
    # Then none is missing (add a row to the event table in docs/operations.md for each one listed)
    assert missing == {}


def test_the_scan_finds_the_events_ops_alert_on() -> None:
    # The scan itself must see the core names (it would pass vacuously if it found nothing)
    events = emitted_events()
    assert {"publication.published", "publication.failed", "publication.in_doubt", "publication.unconfirmed",
            "account.auth_expired", "rate_limit.deferred", "localization.failed", "notification.failed"} <= set(events)
