"""A home's hub link and a home's state across a gateway restart."""

import pytest

from gateway.homestate import OFFLINE_GRACE_S, HomeState
from gateway.protocol import AlertType, Event, EventKind, HomeStatus

T0 = 1_800_000_000.0


def test_a_hub_offline_past_the_grace_raises_home_offline_once_and_a_return_cancels_it() -> None:
    home = HomeState("h1")
    assert home.on_status(HomeStatus(home="h1", online=True, ts=T0, heartbeat_s=60), T0) == []
    assert home.on_status(HomeStatus(home="h1", online=False, ts=T0 + 10), T0 + 10) == []
    assert home.on_tick(T0 + 10 + OFFLINE_GRACE_S - 1, T0) == []
    [offline] = home.on_tick(T0 + 10 + OFFLINE_GRACE_S, T0)
    assert offline.type is AlertType.HOME_OFFLINE and "last will" in offline.evidence["reason"]
    assert home.on_tick(T0 + 10_000, T0) == []
    home.on_status(HomeStatus(home="h1", online=True, ts=T0 + 20_000, heartbeat_s=60), T0 + 20_000)
    home.on_status(HomeStatus(home="h1", online=False, ts=T0 + 20_010), T0 + 20_010)
    assert home.on_tick(T0 + 20_010 + OFFLINE_GRACE_S, T0), "a new episode after the hub came back"


def test_a_broker_restart_that_fires_every_will_alerts_nobody_when_hubs_return() -> None:
    home = HomeState("h1")
    home.on_status(HomeStatus(home="h1", online=True, ts=T0, heartbeat_s=60), T0)
    home.on_status(HomeStatus(home="h1", online=False, ts=T0 + 5), T0 + 5)
    home.on_status(HomeStatus(home="h1", online=True, ts=T0 + 40, heartbeat_s=60), T0 + 40)
    assert home.on_tick(T0 + 40 + 179, T0) == []  # before the next heartbeat is overdue
    assert home.next_deadline() == T0 + 40 + 180, "the last will no longer counts"


def test_missing_heartbeats_raise_home_offline_when_the_deadline_passes() -> None:
    home = HomeState("h1")
    home.on_status(HomeStatus(home="h1", online=True, ts=T0, heartbeat_s=60), T0)
    assert home.next_deadline() == T0 + 180
    assert home.on_tick(T0 + 179, T0 + 179) == []
    [offline] = home.on_tick(T0 + 181, T0 + 181)
    assert offline.evidence["reason"] == "no heartbeat from the hub"
    assert home.on_tick(T0 + 400, T0 + 400) == []


def test_snapshot_round_trip_keeps_episodes_and_sequences() -> None:
    home = HomeState("h1")
    smoke = Event(id="s1", home="h1", device="smoke1", kind=EventKind.SMOKE, ts=T0, seq=4, value=True)
    assert len(home.on_event(smoke, T0)) == 1
    restored = HomeState.restore(home.snapshot())
    again = Event(id="s2", home="h1", device="smoke1", kind=EventKind.SMOKE, ts=T0 + 5, seq=5, value=True)
    assert not restored.on_event(again, T0 + 5), "a restart must not re-raise the smoke episode"
    assert restored.seq_stats.gaps == 0
    assert len(home.snapshot()) < 10_000


def test_snapshot_of_another_version_is_refused() -> None:
    blob = HomeState("h1").snapshot().replace(b'"version":1', b'"version":99')
    with pytest.raises(ValueError, match="version 99"):
        HomeState.restore(blob)


def test_bed_vitals_reach_the_home_as_one_vitals_alert() -> None:
    home = HomeState("h1")
    home.on_event(Event(id="b0", home="h1", device="mat", kind=EventKind.BED, ts=T0, seq=0, value=True), T0)
    alerts = []
    for i in range(1, 40):
        vitals = Event(id=f"v{i}", home="h1", device="mat", kind=EventKind.VITALS, ts=T0 + 10 * i, seq=i,
                       data={"heart_rate": 36, "breathing_rate": 14})
        alerts += home.on_event(vitals, T0 + 10 * i)
    assert [(a.type, a.evidence["reason"], a.evidence["metric"]) for a in alerts] == [
        (AlertType.VITALS, "bound", "heart_rate")]
    assert alerts[0].model_version == "vitals-1"


def test_the_same_emergency_seen_by_two_devices_is_one_alert() -> None:
    home = HomeState("h1")
    radar = Event(id="r1", home="h1", device="radar", kind=EventKind.FALL, ts=T0, seq=0, value=True)
    pendant = Event(id="p1", home="h1", device="pendant", kind=EventKind.SOS, ts=T0 + 1, seq=0, value=True)
    band = Event(id="w1", home="h1", device="wristband", kind=EventKind.FALL, ts=T0 + 3, seq=0, value=True)
    alerts = [a for e in (radar, pendant, band) for a in home.on_event(e, T0)]
    assert [a.type for a in alerts] == [AlertType.FALL, AlertType.SOS]
    later = Event(id="w2", home="h1", device="wristband", kind=EventKind.FALL, ts=T0 + 600, seq=1, value=True)
    assert [a.type for a in home.on_event(later, T0)] == [AlertType.FALL]
