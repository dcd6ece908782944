"""Maintenance alerts: silence, low battery, tamper; once per episode, re-armed by a healthy reading."""

from gateway.detectors import DeviceHealth
from gateway.protocol import AlertType, Event, EventKind, Severity

T0 = 1_800_000_000.0


def _health(n: int, **data: object) -> Event:
    return Event(id=f"h{n}", home="h1", device="smoke1", kind=EventKind.DEVICE_HEALTH, ts=T0 + n, seq=n, data=data)


def _availability(n: int, online: bool) -> Event:
    return Event(id=f"a{n}", home="h1", device="smoke1", kind=EventKind.AVAILABILITY, ts=T0 + n, seq=n, value=online,
                 data={"reason": "silent"})


def test_low_battery_once_then_rearmed_after_replacement() -> None:
    health = DeviceHealth()
    first = health.on_event(_health(1, battery=12), T0)
    assert [(a.type, a.severity) for a in first] == [(AlertType.BATTERY_LOW, Severity.MAINTENANCE)]
    assert health.on_event(_health(2, battery=11, battery_low=True), T0) == []
    assert health.on_event(_health(3, battery=20), T0) == [], "hysteresis: still the same episode"
    assert health.on_event(_health(4, battery=100, battery_low=False), T0) == []
    assert [a.type for a in health.on_event(_health(5, battery_low=True), T0)] == [AlertType.BATTERY_LOW]


def test_tamper_and_silence_are_maintenance_alerts() -> None:
    health = DeviceHealth()
    assert [a.type for a in health.on_event(_health(1, tamper=True), T0)] == [AlertType.TAMPER]
    silent = health.on_event(_availability(2, online=False), T0)
    assert [(a.type, a.severity) for a in silent] == [(AlertType.DEVICE_SILENT, Severity.MAINTENANCE)]
    assert silent[0].evidence["reason"] == "silent"
    assert health.on_event(_availability(3, online=False), T0) == []
    health.on_event(_availability(4, online=True), T0)
    assert len(health.on_event(_availability(5, online=False), T0)) == 1


def test_health_without_battery_information_neither_alerts_nor_rearms() -> None:
    health = DeviceHealth()
    health.on_event(_health(1, battery_low=True), T0)
    assert health.on_event(_health(2, linkquality=30), T0) == []
    assert health.on_event(_health(3, battery_low=True), T0) == [], "link quality alone says nothing of the battery"
