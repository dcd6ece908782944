"""What the dispatcher needs from a notifier: hand over one message, get the provider's id back."""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    """Sends one SMS or voice message through a provider (console outbox, Twilio, ...)."""

    name: str

    def send(self, *, to: str, channel: str, body: str, notification_id: int | None = None) -> str:
        """Hand one message to the provider and return its message id.

        Blocking I/O is allowed (the dispatcher calls it from its own thread). Raises `NotifierError`
        with `retryable` set when the provider refuses or cannot be reached.

        Args:
            notification_id: the outbox row being sent, for providers that call back about it (delivery
                receipts, a call's keypress); `None` when there is no row (e.g. a one-off test message).
        """
        ...
