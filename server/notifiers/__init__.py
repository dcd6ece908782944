"""Notifiers: how a notification leaves the server, chosen by name in the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from server.notifiers.base import Notifier
from server.notifiers.console import ConsoleOutbox
from server.notifiers.errors import NotifierError

if TYPE_CHECKING:
    from server.config import ServerSettings

__all__ = ["ConsoleOutbox", "Notifier", "NotifierError", "make_notifier"]

_FACTORIES: dict[str, Callable[[ServerSettings], Notifier]] = {
    "console": lambda _settings: ConsoleOutbox(),
}


def make_notifier(settings: ServerSettings) -> Notifier:
    """The notifier named by `settings.notifier`."""
    factory = _FACTORIES.get(settings.notifier)
    if factory is None:
        raise ValueError(f"unknown notifier {settings.notifier!r}; expected one of {sorted(_FACTORIES)}")
    return factory(settings)
