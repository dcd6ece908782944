"""Drains the notifications outbox through the notifier, from one background thread.

Notifier calls are blocking I/O (an HTTP request to Twilio), so they run on this thread and never on
the event loop. The thread wakes at once when an alert is ingested, and also sweeps on a fixed interval,
so rows left pending by a crash, a restart or a retryable provider error go out without anyone asking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from server.background import WakeableLoop
from server.crud.lifecycle import mark_notified, notification_failed
from server.crud.notifications import Claim, claim_due, defer, mark_retry, mark_sent, release
from server.notifiers import Notifier, NotifierError
from server.notifiers.ratelimit import ThrottledError

_LOGGER = logging.getLogger(__name__)

DEFAULT_LEASE_S = 60.0  # longer than any notifier call may take, or a slow send could be claimed twice
DEFAULT_BATCH_SIZE = 50
DEFAULT_MAX_BACKOFF_S = 60.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Dispatcher(WakeableLoop):
    """Sends each pending notification once: claim it, send it, settle it as sent, retry or failed.

    Args:
        sessions: session factory of the server's database.
        notifier: where messages go.
        interval_s: sweep period, and the first retry delay (doubling up to `max_backoff_s`).
        lease_s: how long a claim keeps other dispatchers off a row; a crash mid-send delays it this long.
        clock: aware-UTC "now", injectable for tests.
    """

    thread_name = "homesafe-dispatcher"

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        notifier: Notifier,
        interval_s: float = 1.0,
        lease_s: float = DEFAULT_LEASE_S,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        super().__init__(interval_s=interval_s)
        self.sessions = sessions
        self.notifier = notifier
        self.lease_s = lease_s
        self.batch_size = batch_size
        self.max_backoff_s = max_backoff_s
        self.clock = clock
    def run_once(self) -> int:
        """Claim one batch of due notifications and send it, in the caller's thread; returns how many."""
        with self.sessions() as session:
            claims = claim_due(
                session=session, now=self.clock(), lease=timedelta(seconds=self.lease_s), limit=self.batch_size
            )
        for index, claim in enumerate(claims):
            if self._stopping.is_set():
                # Hand the rest back rather than leave them claimed for a whole lease after a restart.
                with self.sessions() as session:
                    release(session=session, claims=claims[index:])
                break
            self._deliver(claim)
        return len(claims)

    def sweep(self) -> None:
        while self.run_once() >= self.batch_size and not self._stopping.is_set():
            pass

    def _backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.interval_s * 2 ** max(attempts - 1, 0), self.max_backoff_s))

    def _deliver(self, claim: Claim) -> None:
        try:
            provider_id = self.notifier.send(
                to=claim.to, channel=claim.channel, body=claim.body, notification_id=claim.id
            )
        except ThrottledError as exc:
            # Over the provider's rate: back in the outbox until its slot, not an attempt, never dropped.
            with self.sessions() as session:
                defer(session=session, claim=claim, not_before=self.clock() + timedelta(seconds=exc.retry_after_s))
            return
        except NotifierError as exc:
            retryable, error = exc.retryable, str(exc)
        except Exception as exc:
            # A bug or an untranslated provider error: keep the message rather than lose an alert.
            _LOGGER.exception("notifier %s raised %s instead of NotifierError", self.notifier.name, type(exc).__name__)
            retryable, error = True, f"{type(exc).__name__}: {exc}"
        else:
            with self.sessions() as session:
                now = self.clock()
                # One commit: the first message sent moves the alert to notified, with its transition row.
                mark_notified(session=session, alert_id=claim.alert_id, channel=claim.channel, now=now)
                mark_sent(session=session, claim=claim, provider_id=provider_id, now=now)
            _LOGGER.debug("notification %d of alert %s sent via %s", claim.id, claim.alert_id, self.notifier.name)
            return
        # The error text is stored on the row, not logged: provider messages may quote the phone number.
        with self.sessions() as session:
            if retryable:
                delay = self._backoff(claim.attempts)
                mark_retry(session=session, claim=claim, error=error, retry_at=self.clock() + delay)
                _LOGGER.warning(
                    "notification %d of alert %s not sent (attempt %d, retryable); retrying in %.1f s",
                    claim.id,
                    claim.alert_id,
                    claim.attempts,
                    delay.total_seconds(),
                )
            else:
                # Marks it failed and brings the alert's next ladder step forward: a refused number must
                # not cost the resident the step's whole wait.
                notification_failed(session=session, notification_id=claim.id, error=error, now=self.clock())
                _LOGGER.error(
                    "notification %d of alert %s refused by %s (attempt %d); marked failed",
                    claim.id,
                    claim.alert_id,
                    self.notifier.name,
                    claim.attempts,
                )
