"""Delivers queued alerts to the server over HTTP, retrying with backoff until it has them."""

from __future__ import annotations

import logging
import random
import threading

import httpx

from gateway.outbox import AlertOutbox
from gateway.protocol import encode

_LOGGER = logging.getLogger(__name__)

INGEST_PATH = "/api/ingest/alerts"
BATCH_SIZE = 100
MIN_BACKOFF_S = 0.1
MAX_BACKOFF_S = 2.0  # short: an SOS waiting on a recovered server must not wait long


class AlertForwarder:
    """A background thread that drains the outbox into `POST /api/ingest/alerts`.

    The server stores alerts idempotently by id, so a batch resent after a lost response is harmless.
    """

    def __init__(self, outbox: AlertOutbox, server_url: str, *, token: str | None = None, timeout_s: float = 5.0):
        self._outbox = outbox
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=server_url.rstrip("/"), headers=headers, timeout=timeout_s)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-forwarder", daemon=True)
        self.delivered = 0
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Deliver now rather than at the next retry (an alert was just queued)."""
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout_s)
        self._http.close()

    def _run(self) -> None:
        backoff = MIN_BACKOFF_S
        while not self._stop.is_set():
            self._wake.clear()
            try:
                sent = self._deliver_batch()
            except (httpx.HTTPError, OSError) as exc:
                self.failures += 1
                _LOGGER.warning("server unreachable (%s); %d alerts queued, retry in %.1f s",
                                exc, len(self._outbox), backoff)
                self._stop.wait(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff = MIN_BACKOFF_S
            if not sent:
                self._wake.wait(1.0)

    def _deliver_batch(self) -> int:
        queued = self._outbox.peek(BATCH_SIZE)
        if not queued:
            return 0
        response = self._http.post(INGEST_PATH, content=encode([alert for _, alert in queued]))
        if response.status_code >= 500:
            raise httpx.HTTPStatusError(f"server answered {response.status_code}", request=response.request,
                                        response=response)
        if response.status_code >= 400:
            # A 4xx will not heal by retrying the same bytes: keep the alerts, shout, retry slowly.
            _LOGGER.error("server refused %d alerts: %s %s", len(queued), response.status_code, response.text[:500])
            raise httpx.HTTPStatusError("refused", request=response.request, response=response)
        self._outbox.remove_through(queued[-1][0])
        self.delivered += len(queued)
        return len(queued)
