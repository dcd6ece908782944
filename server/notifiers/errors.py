"""The one error family the server knows from notifiers; adapters translate their provider's errors into it."""

from __future__ import annotations


class NotifierError(Exception):
    """A message could not be handed to the provider.

    `retryable` says whether trying again later may work (rate limit, provider 5xx, network) or not
    (invalid number, rejected content), so the dispatcher knows whether to keep the message pending.
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
