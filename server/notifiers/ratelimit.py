"""A blocking token bucket: paces sends to what a provider lets one sender number do per second.

Notifiers run on the dispatcher's thread, so waiting for a token is a plain sleep there; the event loop
never blocks on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate_per_s` tokens a second, at most `burst` saved up; `take(n)` waits until `n` are there.

    Args:
        rate_per_s: sustained rate, e.g. 1.0 for a Twilio long code (1 message segment a second).
        burst: tokens that may be spent at once after a quiet spell (also the starting fill).
        clock: monotonic seconds, injectable for tests.
        sleep: how to wait, injectable for tests.
    """

    def __init__(
        self,
        *,
        rate_per_s: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be > 0, got {rate_per_s}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1 token, got {burst}; a smaller bucket could never send")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        self._tokens = burst
        self._updated = clock()
        self._lock = threading.Lock()

    def take(self, tokens: float = 1.0) -> float:
        """Spend `tokens` (capped at `burst`), waiting first if needed; returns the seconds waited."""
        tokens = min(tokens, self.burst)  # a message longer than the bucket still goes, after a full refill
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now
            self._tokens -= tokens
            # Spending before waiting (going negative) reserves this slot: a second caller queues behind.
            wait = -self._tokens / self.rate_per_s if self._tokens < 0 else 0.0
        if wait > 0:
            self.sleep(wait)
        return wait
