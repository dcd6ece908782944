"""The worker's per-message job, without MQTT: routing, rejection counts, de-duplication, SOS alerts."""

import time

from gateway.protocol import Alert, AlertType, Event, EventKind, RejectReason, Stream, encode, uplink_topic
from gateway.worker import GatewayWorker

NOW = time.time()


class Collected(list[Alert]):
    def __call__(self, alerts: list[Alert]) -> None:
        self.extend(alerts)


def _press(event_id: str, home: str = "h1", ts: float = NOW, seq: int = 0) -> Event:
    return Event(id=event_id, home=home, device="btn", kind=EventKind.SOS, ts=ts, seq=seq, data={"action": "single"})


def _worker() -> tuple[GatewayWorker, Collected]:
    sink = Collected()
    return GatewayWorker(sink=sink, wall_clock=lambda: NOW), sink


def test_sos_press_becomes_one_critical_alert_with_evidence() -> None:
    worker, alerts = _worker()
    worker.handle(uplink_topic("h1", Stream.EVENTS), encode(_press("e1")))
    assert [(a.type, a.home, a.event_id, a.severity) for a in alerts] == [(AlertType.SOS, "h1", "e1", "critical")]
    assert alerts[0].evidence["action"] == "single"


def test_redelivered_event_counts_once() -> None:
    worker, alerts = _worker()
    topic = uplink_topic("h1", Stream.EVENTS)
    worker.handle(topic, encode(_press("e1")))
    worker.handle(topic, encode(_press("e1")))
    assert len(alerts) == 1
    assert worker.duplicates == 1 and worker.accepted == 1


def test_held_button_repeats_join_the_first_alert_but_a_later_press_is_new() -> None:
    worker, alerts = _worker()
    topic = uplink_topic("h1", Stream.EVENTS)
    worker.handle(topic, encode(_press("e1", seq=0)))
    worker.handle(topic, encode(_press("e2", ts=NOW + 2, seq=1)))
    assert len(alerts) == 1
    worker.handle(topic, encode(_press("e3", ts=NOW + 120, seq=2)))
    assert [a.event_id for a in alerts] == ["e1", "e3"]


def test_each_bad_message_is_counted_by_reason_and_the_next_press_still_alerts() -> None:
    worker, alerts = _worker()
    good_topic = uplink_topic("h1", Stream.EVENTS)
    spoof_shard = good_topic.replace(good_topic.split("/")[2], str((int(good_topic.split("/")[2]) + 1) % 256))
    bad = [
        (good_topic, b"{oops"),
        (good_topic, b'{"id":"b2","home":"h1","device":"d","kind":"levitate","ts":%f,"seq":0}' % NOW),
        (good_topic, b'{"id":"b3","home":"h1","device":"d","kind":"sos","ts":"yesterday","seq":0}'),
        (good_topic, encode(_press("b4", home="h2"))),
        (spoof_shard, encode(_press("b5"))),
        ("hs/v1/garbage", b"{}"),
    ]
    for topic, payload in bad:
        worker.handle(topic, payload)
    assert alerts == []
    assert worker.rejected == {
        RejectReason.MALFORMED_JSON: 1,
        RejectReason.UNKNOWN_KIND: 1,
        RejectReason.SCHEMA: 1,
        RejectReason.HOME_MISMATCH: 1,
        RejectReason.WRONG_SHARD: 1,
        RejectReason.BAD_TOPIC: 1,
    }
    worker.handle(good_topic, encode(_press("ok")))
    assert [a.event_id for a in alerts] == ["ok"]


def test_unowned_shard_is_refused() -> None:
    sink = Collected()
    topic = uplink_topic("h1", Stream.EVENTS)
    owned = {int(topic.split("/")[2]) + 1}
    worker = GatewayWorker(sink=sink, shards=owned, wall_clock=lambda: NOW)
    worker.handle(topic, encode(_press("e1")))
    assert sink == [] and worker.rejected[RejectReason.WRONG_SHARD] == 1


def test_sequence_gaps_and_late_events_are_visible() -> None:
    worker, _ = _worker()
    topic = uplink_topic("h1", Stream.EVENTS)
    for event_id, seq in [("a", 0), ("b", 3), ("c", 2)]:
        motion = Event(id=event_id, home="h1", device="pir", kind=EventKind.MOTION, ts=NOW, seq=seq, value=True)
        worker.handle(topic, encode(motion))
    assert worker.stats()["seq_gaps"] == 1  # seq 1 still missing; seq 2 arrived late and filled its gap
    assert worker.stats()["seq_late"] == 1
