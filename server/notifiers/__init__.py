"""Notifiers: how a notification leaves the server, chosen by name in the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from server.notifiers.base import Notifier
from server.notifiers.console import ConsoleOutbox
from server.notifiers.errors import NotifierError

if TYPE_CHECKING:
    from server.config import ServerSettings
    from server.notifiers.ratelimit import SendLimits

__all__ = ["ConsoleOutbox", "Notifier", "NotifierError", "make_notifier"]


def _twilio(settings: ServerSettings, limits: SendLimits | None) -> Notifier:
    # Imported on demand: the console default starts without loading the Twilio library.
    from server.notifiers.twilio import TwilioNotifier

    return TwilioNotifier.from_settings(settings, limits=limits)


_FACTORIES: dict[str, Callable[[ServerSettings, SendLimits | None], Notifier]] = {
    "console": lambda _settings, _limits: ConsoleOutbox(),
    "twilio": _twilio,
}


def make_notifier(settings: ServerSettings, *, limits: SendLimits | None = None) -> Notifier:
    """The notifier named by `settings.notifier`, pacing itself at `limits` (the policy's provider rates)
    when it paces at all; raises `ValueError` naming what is missing or unknown."""
    factory = _FACTORIES.get(settings.notifier)
    if factory is None:
        raise ValueError(f"unknown notifier {settings.notifier!r}; expected one of {sorted(_FACTORIES)}")
    return factory(settings, limits)
