"""Pacing sends to what a provider allows: per sending number (Twilio: 1 SMS a second from a long code, 1
call a second per account) and per receiving number (some domestic SMS providers cap messages to one phone).

Two ways to wait. `TokenBucket.take` sleeps (a notifier pacing itself inside one call). `RateLimitedNotifier`
never sleeps: a message over the rate raises `ThrottledError`, and the dispatcher puts it back in the outbox
with `not_before` at the instant it may go. It is not an attempt and it is never dropped; while it waits,
the dispatcher's claim order (critical alerts first) decides what takes the next free slot, so a storm of
maintenance texts never holds back an SOS.

The buckets live in memory, per dispatcher process: one server per sending number is the deployment this
assumes. A restart starts them full, so it may send one burst early; the provider queues that, no more.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from server.notifiers.errors import NotifierError

if TYPE_CHECKING:
    from server.notifiers.base import Notifier

MAX_DESTINATIONS: Final = 10_000  # per-number buckets kept; only full (idle) ones are ever forgotten


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

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_s)
        self._updated = now

    def take(self, tokens: float = 1.0) -> float:
        """Spend `tokens` (capped at `burst`), waiting first if needed; returns the seconds waited."""
        tokens = min(tokens, self.burst)  # a message longer than the bucket still goes, after a full refill
        with self._lock:
            self._refill()
            self._tokens -= tokens
            # Spending before waiting (going negative) reserves this slot: a second caller queues behind.
            wait = -self._tokens / self.rate_per_s if self._tokens < 0 else 0.0
        if wait > 0:
            self.sleep(wait)
        return wait

    def wait_s(self, tokens: float = 1.0) -> float:
        """Seconds until `tokens` are there (0.0: now), spending nothing."""
        tokens = min(tokens, self.burst)
        with self._lock:
            self._refill()
            return max(0.0, (tokens - self._tokens) / self.rate_per_s)

    def spend(self, tokens: float = 1.0) -> None:
        """Spend `tokens` without waiting (the caller checked `wait_s` first)."""
        with self._lock:
            self._refill()
            self._tokens -= min(tokens, self.burst)

    @property
    def full(self) -> bool:
        """Whether the bucket refilled completely: forgetting it changes nothing."""
        with self._lock:
            self._refill()
            return self._tokens >= self.burst


@dataclass(frozen=True, slots=True)
class SendLimits:
    """What a provider lets us send, as rates.

    Args:
        sms_per_s: SMS a second from our sending number (Twilio long code 1, toll-free 3, short code 30).
        calls_per_s: calls a second (Twilio: the account's CPS, 1 unless raised).
        burst: messages (and calls) that may go at once after a quiet spell: one alert's first wave.
        per_destination_per_s: messages a second to one receiving number, all channels; `None` for no cap.
        destination_burst: what one number may get at once (2: a critical step texts and calls together).
    """

    sms_per_s: float = 1.0
    calls_per_s: float = 1.0
    burst: float = 3.0
    per_destination_per_s: float | None = None
    destination_burst: float = 2.0

    def __post_init__(self) -> None:
        for name in ("sms_per_s", "calls_per_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.per_destination_per_s is not None and not self.per_destination_per_s > 0:
            raise ValueError(f"per_destination_per_s must be > 0 or None, got {self.per_destination_per_s}")
        for name in ("burst", "destination_burst"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}; a smaller bucket could never send")


class ThrottledError(NotifierError):
    """A message over the provider's rate: the dispatcher reschedules it `retry_after_s` from now.

    No phone number in the text: it may be stored or logged.
    """

    def __init__(self, retry_after_s: float, *, limit: str) -> None:
        super().__init__(f"held back by the {limit} rate; may go in {retry_after_s:.2f} s", retryable=True)
        self.retry_after_s = retry_after_s
        self.limit = limit


class SendLimiter:
    """One bucket per channel for the sending number, one per receiving number; all-or-nothing.

    A message goes only when every bucket it needs has a token, and then spends one from each: a message
    held back by its destination's cap does not use the sender's slot, which the next message may have.
    """

    def __init__(self, limits: SendLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._sender = {
            "sms": TokenBucket(rate_per_s=limits.sms_per_s, burst=limits.burst, clock=clock),
            "voice": TokenBucket(rate_per_s=limits.calls_per_s, burst=limits.burst, clock=clock),
        }
        self._destinations: OrderedDict[str, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()

    def _destination(self, to: str) -> TokenBucket | None:
        rate = self.limits.per_destination_per_s
        if rate is None:
            return None
        bucket = self._destinations.get(to)
        if bucket is None:
            bucket = TokenBucket(rate_per_s=rate, burst=self.limits.destination_burst, clock=self.clock)
            self._destinations[to] = bucket
            if len(self._destinations) > MAX_DESTINATIONS:
                for key in [key for key, old in self._destinations.items() if old.full][: len(self._destinations) // 2]:
                    del self._destinations[key]
        self._destinations.move_to_end(to)
        return bucket

    def acquire(self, *, to: str, channel: str) -> tuple[float, str]:
        """`(0.0, "")` and the tokens spent when the message may go now; else `(seconds to wait, which limit)`."""
        with self._lock:
            needed = [(bucket, f"sender {channel}") for bucket in (self._sender.get(channel),) if bucket is not None]
            destination = self._destination(to)
            if destination is not None:
                needed.append((destination, "destination"))
            waits = [(bucket.wait_s(), limit) for bucket, limit in needed]
            longest = max(waits, default=(0.0, ""))
            if longest[0] > 0:
                return longest
            for bucket, _limit in needed:
                bucket.spend()
            return 0.0, ""


class RateLimitedNotifier:
    """A notifier in front of another, passing on only what the provider's rates allow right now.

    Raises `ThrottledError` (retryable, with the wait) for the rest; `server.dispatch.Dispatcher` reschedules
    those through the outbox's `not_before` without counting an attempt.
    """

    def __init__(
        self, inner: Notifier, limits: SendLimits, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.limiter = SendLimiter(limits, clock=clock)

    def send(self, *, to: str, channel: str, body: str, notification_id: int | None = None) -> str:
        """Send through the inner notifier if a slot is free now; raise `ThrottledError` otherwise."""
        wait, limit = self.limiter.acquire(to=to, channel=channel)
        if wait > 0:
            raise ThrottledError(wait, limit=limit)
        return self.inner.send(to=to, channel=channel, body=body, notification_id=notification_id)

