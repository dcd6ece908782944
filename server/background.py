"""The one shape of the server's background workers: a thread that sweeps when woken or on a period.

The dispatcher, the escalation scheduler and the ack publisher all keep their work as rows; each is
just a sweep over due rows. This class owns the thread, the wake-up and the stop, so each worker
only says what a sweep does and how long to sleep after it.
"""

from __future__ import annotations

import logging
import threading

_LOGGER = logging.getLogger(__name__)


class WakeableLoop:
    """Runs `sweep()` at start, whenever `wake()` is called, and at least every `interval_s`.

    A wake that arrives during a sweep triggers another one. An exception in a sweep is logged and the
    loop tries again after `interval_s`: a database hiccup must not end escalation for good.
    """

    thread_name = "homesafe-background"

    def __init__(self, *, interval_s: float) -> None:
        self.interval_s = interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the background thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called and the thread is finishing its current sweep."""
        return self._stopping.is_set()

    def start(self) -> None:
        """Start the thread; it sweeps at once, for work left due while the server was down."""
        if self.running:
            raise RuntimeError(f"{type(self).__name__} already running; stop() it before starting it again")
        self._stopping.clear()
        self._wake.set()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the current sweep; what is not done stays rows for the next start."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self._wake.set()
        thread.join(timeout_s)
        if thread.is_alive():
            _LOGGER.warning("%s still busy after %.1f s; leaving it behind", type(self).__name__, timeout_s)
        self._thread = None

    def wake(self) -> None:
        """Sweep now rather than at the next interval."""
        self._wake.set()

    def sweep(self) -> None:
        """One round of work; override."""
        raise NotImplementedError

    def next_wait_s(self) -> float:
        """How long to sleep after a sweep unless woken; override to sleep until the next due row."""
        return self.interval_s

    def _run(self) -> None:
        wait_s = self.interval_s
        while not self._stopping.is_set():
            self._wake.wait(wait_s)
            self._wake.clear()  # before sweeping: a wake during the sweep triggers another
            if self._stopping.is_set():
                break
            try:
                self.sweep()
                wait_s = self.next_wait_s()
            except Exception:
                _LOGGER.exception("%s sweep failed; trying again in %.1f s", type(self).__name__, self.interval_s)
                wait_s = self.interval_s
