"""Every :class:`Deadline` of a process is watched by one thread: a later deadline entered first
does not hold back an earlier one, a deadline left in time never fires, cancelled ones do not pile
up, and a forked child watches its own."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time

import pytest

from syndicate.channels.http import Deadline, _watchdog
from tests.helpers import wait_until


def test_an_earlier_deadline_fires_before_a_later_one_entered_first() -> None:
    # Given a deadline of 60 s entered in one thread (the watcher now waits for it)
    entered, leave = threading.Event(), threading.Event()
    late_box: list[Deadline] = []

    def hold_late() -> None:
        with Deadline(60.0) as late:
            late_box.append(late)
            entered.set()
            leave.wait(30)

    holder = threading.Thread(target=hold_late)
    holder.start()
    try:
        assert entered.wait(10)
        # When a deadline of 0.1 s is entered here
        with Deadline(0.1) as soon:
            # Then it passes long before the first one would have woken the watcher
            wait_until(lambda: soon.expired, "the 0.1 s deadline to pass", timeout_s=20)
            assert soon.remaining() < 0
        assert not late_box[0].expired
    finally:
        leave.set()
        holder.join(10)


def test_a_deadline_left_in_time_never_fires() -> None:
    # Given a deadline of 0.05 s left after a moment
    with Deadline(0.05) as left:
        pass
    # When its time has passed / Then it was never expired
    time.sleep(0.2)
    assert not left.expired


def test_cancelled_deadlines_do_not_pile_up() -> None:
    # Given the deadlines already pending in this process (none, unless another test's thread
    # is in an exchange) / When 2,000 long ones are entered and left in turn
    pending, held = _watchdog.pending(), len(_watchdog._heap)
    for _ in range(2000):
        with Deadline(600.0):
            pass
    # Then none of them is pending and the watcher keeps a bounded number of dead entries, not 2,000
    assert _watchdog.pending() <= pending
    assert len(_watchdog._heap) <= held + 2 * _watchdog._COMPACT_AT + 2


def _expires_in_child(out: multiprocessing.Queue[bool]) -> None:
    with Deadline(0.05) as d:
        end = time.monotonic() + 20
        while not d.expired and time.monotonic() < end:
            time.sleep(0.01)
    out.put(d.expired)


def test_a_forked_child_watches_its_own_deadlines() -> None:
    # Given a watcher thread running in this process (it does not survive a fork)
    with Deadline(0.01) as here:
        wait_until(lambda: here.expired, "this process's deadline to pass", timeout_s=20)
    # When a forked child enters a deadline of 0.05 s / Then it passes there too
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[bool] = ctx.Queue()
    child = ctx.Process(target=_expires_in_child, args=(out,))
    child.start()
    try:
        assert out.get(timeout=30) is True
    finally:
        child.join(10)


class _Broken(Deadline):
    """A deadline whose expiry fails (what the watcher must survive)."""

    def _expire(self) -> None:
        raise RuntimeError("cannot shut down")


def test_a_failing_expiry_is_logged_and_the_others_still_expire(caplog: pytest.LogCaptureFixture) -> None:
    # Given a deadline whose expiry raises, passing first
    with caplog.at_level(logging.ERROR, logger="syndicate.channels.http"), _Broken(0.01), Deadline(0.2) as later:
        # When both pass / Then the later one still expires, and the failure was logged
        wait_until(lambda: later.expired, "the deadline after the failing one to pass", timeout_s=20)
    assert [r.getMessage() for r in caplog.records if r.name == "syndicate.channels.http"] \
        == ["http.deadline_expiry_failed"]
