"""Prolonged inactivity, not getting up, and night-time bed exits without return (issue 4).

    monitor = InactivityMonitor()                       # one per home; cold start from the shipped prior
    alarms = monitor.on_event(ts, sensor, kind, value)  # and monitor.on_tick(now) from a timer
    monitor.next_deadline()                             # when to call on_tick if nothing happens
    InactivityMonitor.restore(monitor.snapshot())

`InactivityProfile` is the estimator underneath (learned silences by context and hour, routine, absences);
`models.inactivity.prior` holds the population prior; `models.inactivity.evaluation` replays homes and
scores alarms (false alarms per home-month, detection delays) for this method and for fixed rules.
"""

from models.base import NotFittedError
from models.inactivity.monitor import (
    ALARM_TYPES,
    BED_EXIT_NO_RETURN,
    INACTIVITY,
    NOT_UP,
    InactivityAlarm,
    InactivityMonitor,
)
from models.inactivity.prior import default_prior, load_prior
from models.inactivity.profile import HOLDING, KINDS, InactivityProfile, local_hour, local_seconds

__all__ = [
    "ALARM_TYPES",
    "BED_EXIT_NO_RETURN",
    "HOLDING",
    "INACTIVITY",
    "KINDS",
    "NOT_UP",
    "InactivityAlarm",
    "InactivityMonitor",
    "InactivityProfile",
    "NotFittedError",
    "default_prior",
    "load_prior",
    "local_hour",
    "local_seconds",
]
