"""The escalation scheduler: one background thread that fires ladder steps when they fall due.

The steps are rows (`escalation_steps`), so the thread holds no timers: it sleeps until the earliest
pending `due_at` (or a wake), claims what is due, and fires it. A restart resumes every ladder where its
rows say, and two servers on one database never fire a step twice (see `ladder.claim_and_fire`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from server.background import WakeableLoop
from server.escalation.config import EscalationConfig
from server.escalation.ladder import claim_and_fire, due_step_ids, next_due_at

_LOGGER = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 50
MIN_WAIT_S = 0.005


def _utcnow() -> datetime:
    return datetime.now(UTC)


class EscalationScheduler(WakeableLoop):
    """Fires due escalation steps from one thread.

    Args:
        sessions: session factory of the server's database.
        config: policy, service numbers and time scale.
        interval_s: longest sleep between sweeps (steps written by another server are seen this late).
        on_notifications: called after a sweep created notifications (the dispatcher's `wake`).
        clock: aware-UTC "now", injectable for tests.
    """

    thread_name = "homesafe-escalation"

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
        super().__init__(interval_s=interval_s)
        self.sessions = sessions
        self.config = config
        self.batch_size = batch_size
        self.on_notifications = on_notifications
        self.clock = clock
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

    def sweep(self) -> None:
        while not self._stopping.is_set():
            fired, _created = self.run_once()
            if fired < self.batch_size:
                break

    def next_wait_s(self) -> float:
        """Sleep until the next step falls due (at most `interval_s`)."""
        with self.sessions() as session:
            due = next_due_at(session=session)
        if due is None:
            return self.interval_s
        return min(self.interval_s, max((due - self.clock()).total_seconds(), MIN_WAIT_S))
