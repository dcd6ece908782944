"""The loop under the dispatcher, the escalation scheduler and the ack publisher."""

import threading
import time

from server.background import WakeableLoop


class Counting(WakeableLoop):
    def __init__(self, fail_first: bool = False) -> None:
        super().__init__(interval_s=60.0)
        self.sweeps = 0
        self.fail_first = fail_first
        self.swept = threading.Event()

    def sweep(self) -> None:
        self.sweeps += 1
        self.swept.set()
        if self.fail_first and self.sweeps == 1:
            raise RuntimeError("database hiccup")


def _wait_for(loop: Counting, n: int) -> None:
    deadline = time.monotonic() + 5
    while loop.sweeps < n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert loop.sweeps >= n


def test_sweeps_at_start_and_on_wake_not_only_on_the_period() -> None:
    """Guards against a woken worker waiting out its 60 s period (an SOS would sit in the outbox)."""
    loop = Counting()
    loop.start()
    try:
        _wait_for(loop, 1)
        loop.wake()
        _wait_for(loop, 2)
    finally:
        loop.stop()
    assert not loop.running


def test_a_failing_sweep_does_not_end_the_loop(caplog) -> None:
    """Guards against one exception silently stopping every later notification."""
    loop = Counting(fail_first=True)
    loop.start()
    try:
        _wait_for(loop, 1)
        loop.wake()
        _wait_for(loop, 2)
        assert loop.running
    finally:
        loop.stop()
    assert "sweep failed" in caplog.text
