"""Which device-health reports are worth sending up, and which devices have gone silent.

Zigbee devices repeat battery and link quality in every message; forwarding each would double the
uplink traffic for nothing. And Zigbee2MQTT's own availability check is off by default and waits 25 h
for battery devices, so the agent supervises silence per device type itself.
"""

from __future__ import annotations

from typing import Any

HEALTH_REFRESH_S = 3600.0
_HEALTH_KEYS = ("battery", "battery_low", "tamper")

# Longest a working device of each type stays quiet. Battery devices wake rarely (Zigbee2MQTT assumes
# 25 h); mains-powered ones (gas, radar, bed mat) report every few minutes.
CHECKIN_INTERVAL_S: dict[str, float] = {
    "button": 25 * 3600.0,
    "motion": 25 * 3600.0,
    "contact": 25 * 3600.0,
    "smoke": 25 * 3600.0,
    "water": 25 * 3600.0,
    "gas": 30 * 60.0,
    "radar": 30 * 60.0,
    "bed_mat": 30 * 60.0,
    "wearable": 6 * 3600.0,
}
DEFAULT_CHECKIN_S = 25 * 3600.0


class HealthFilter:
    """Passes a device's health when battery, battery-low or tamper changed, or once per refresh period."""

    def __init__(self, refresh_s: float = HEALTH_REFRESH_S) -> None:
        self.refresh_s = refresh_s
        self._last: dict[str, tuple[tuple[Any, ...], float]] = {}

    def worth_sending(self, device: str, health: dict[str, Any], now: float) -> bool:
        key = tuple(health.get(k) for k in _HEALTH_KEYS)
        last = self._last.get(device)
        if last is not None and last[0] == key and now - last[1] < self.refresh_s:
            return False
        self._last[device] = (key, now)
        return True


class SilenceWatch:
    """Tracks when each device was last heard and reports those past their check-in interval, once."""

    def __init__(self, intervals: dict[str, float], now: float) -> None:
        self._intervals = dict(intervals)
        self._last_heard = dict.fromkeys(intervals, now)  # a restart gives every device a fresh interval
        self.silent: set[str] = set()

    def watch(self, device: str, interval: float, now: float) -> None:
        """Supervise a device learned after start-up (or change its interval)."""
        self._intervals[device] = interval
        self._last_heard.setdefault(device, now)

    def heard(self, device: str, now: float) -> bool:
        """Record a message; True if the device had been reported silent and is back."""
        self._last_heard[device] = now
        if device in self.silent:
            self.silent.discard(device)
            return True
        return False

    def newly_silent(self, now: float) -> list[tuple[str, float]]:
        """Devices that just passed their interval, with how long they have been quiet."""
        found = []
        for device, interval in self._intervals.items():
            quiet = now - self._last_heard.get(device, now)
            if quiet > interval and device not in self.silent:
                self.silent.add(device)
                found.append((device, quiet))
        return found

    def next_check(self, now: float) -> float:
        """Seconds until some device could pass its interval."""
        waits = [self._last_heard.get(d, now) + i - now for d, i in self._intervals.items() if d not in self.silent]
        return max(1.0, min(waits, default=60.0))
