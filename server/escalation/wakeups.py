"""Waking the server's background loops from whoever commits work for them, through the session.

Lifecycle functions are called with nothing but a session (by routes, webhooks and the dispatcher). The
app puts its loops' `wake` callbacks into `Session.info` of its session factory, so a function that just
committed an acknowledgement or an expedited step can wake the right loop at once; without them (a
session of a test or a script) nothing is woken and the loops' periodic sweeps pick the work up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

_LOGGER = logging.getLogger(__name__)

WAKERS_KEY: Final = "homesafe.wakers"
DISPATCH: Final = "dispatch"  # the notification dispatcher
ESCALATION: Final = "escalation"  # the escalation scheduler
ACKS: Final = "acks"  # the publisher of acknowledgements down the homes' cmd topics


def install(sessions: sessionmaker[Session], wakers: dict[str, Callable[[], None]]) -> None:
    """Make `wakers` reachable from every session `sessions` makes from now on."""
    sessions.configure(info={WAKERS_KEY: wakers})


def wake(session: Session, *names: str) -> None:
    """Call the named loops' wake callbacks, if this session's factory has them; never raises."""
    wakers = session.info.get(WAKERS_KEY) or {}
    for name in names:
        callback = wakers.get(name)
        if callback is None:
            continue
        try:
            callback()
        except Exception:
            _LOGGER.exception("waking %s failed; its periodic sweep will pick the work up", name)
