"""The escalation scheduler: one background thread that fires ladder steps when they fall due.

The steps are rows (`escalation_steps`), so the thread holds no timers: it sleeps until the earliest
pending `due_at` (or a wake), claims what is due, and fires it. A restart resumes every ladder where its
rows say, and two servers on one database never fire a step twice (see `ladder.claim_and_fire`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from server.escalation.config import EscalationConfig
from server.escalation.ladder import claim_and_fire, due_step_ids, next_due_at

_LOGGER = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 50
MIN_WAIT_S = 0.005


def _utcnow() -> datetime:
    return datetime.now(UTC)


class EscalationScheduler:
    """Fires due escalation steps from one thread.

    Args:
        sessions: session factory of the server's database.
        config: policy, service numbers and time scale.
        interval_s: longest sleep between sweeps (steps written by another server are seen this late).
        on_notifications: called after a sweep created notifications (the dispatcher's `wake`).
        clock: aware-UTC "now", injectable for tests.
    """

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        config: EscalationConfig,
        interval_s: float = 1.0,
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_notifications: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.interval_s = interval_s
        self.batch_size = batch_size
        self.on_notifications = on_notifications
        self.clock = clock
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the background thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread; it sweeps at once, for steps that fell due while the server was down."""
        if self.running:
            raise RuntimeError("escalation scheduler already running; stop() it before starting it again")
        self._stopping.clear()
        self._wake.set()
        self._thread = threading.Thread(target=self._run, name="homesafe-escalation", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the step being fired (if any); pending steps stay rows for the next start."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self._wake.set()
        thread.join(timeout_s)
        if thread.is_alive():
            _LOGGER.warning("escalation scheduler did not stop within %.1f s; leaving it behind", timeout_s)
        self._thread = None

    def wake(self) -> None:
        """Sweep now (a new ladder, or a step brought forward by a failed notification)."""
        self._wake.set()

    def run_once(self) -> tuple[int, int]:
        """Fire one batch of due steps in the caller's thread; returns (steps fired, notifications created)."""
        now = self.clock()
        with self.sessions() as session:
            step_ids = due_step_ids(session=session, now=now, limit=self.batch_size)
        fired = created = 0
        for step_id in step_ids:
            if self._stopping.is_set():
                break
            with self.sessions() as session:
                result = claim_and_fire(session=session, config=self.config, step_id=step_id, now=now)
            if result is not None:
                fired += 1
                created += result
        if created and self.on_notifications is not None:
            self.on_notifications()
        return fired, created

    def _sleep_s(self) -> float:
        with self.sessions() as session:
            due = next_due_at(session=session)
        if due is None:
            return self.interval_s
        return min(self.interval_s, max((due - self.clock()).total_seconds(), MIN_WAIT_S))

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                while not self._stopping.is_set():
                    fired, _created = self.run_once()
                    if fired < self.batch_size:
                        break
                timeout = self._sleep_s()
            except Exception:
                _LOGGER.exception("escalation sweep failed; trying again in %.1f s", self.interval_s)
                timeout = self.interval_s
            self._wake.wait(timeout)
            self._wake.clear()
