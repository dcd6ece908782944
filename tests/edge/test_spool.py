"""The spool: durable across reopen, alarms drain first, order kept within a priority."""

from pathlib import Path

import pytest

from edge.spool import Spool
from gateway.protocol import Event, EventKind, decode_event


def _event(event_id: str, kind: EventKind, seq: int) -> Event:
    return Event(id=event_id, home="h1", device="d", kind=kind, ts=1_800_000_000.0, seq=seq)


def test_alarms_first_then_original_order_and_nothing_lost_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path) as spool:
        for event_id, kind in [("m1", EventKind.MOTION), ("s1", EventKind.SOS), ("m2", EventKind.MOTION),
                               ("f1", EventKind.SMOKE)]:
            spool.append(event_id, lambda seq, i=event_id, k=kind: [_event(i, k, seq)])
    with Spool(path) as reopened:
        batch = reopened.peek(10)
        ids = [decode_event(body, "h1", 1_800_000_000.0).id for _, _, body in batch]  # type: ignore[union-attr]
        assert ids == ["s1", "f1", "m1", "m2"]
        reopened.remove([pos for pos, _, _ in batch[:2]])
    with Spool(path) as again:
        assert again.depth() == 2


def test_failed_build_stores_nothing_and_keeps_the_sequence(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db") as spool:
        def boom(seq: int) -> list[Event]:
            raise RuntimeError("adapter bug")

        with pytest.raises(RuntimeError, match="adapter bug"):
            spool.append("d", boom)
        [event] = spool.append("d", lambda seq: [_event("ok", EventKind.MOTION, seq)])
        assert event.seq == 0 and spool.depth() == 1


def test_a_full_spool_drops_oldest_telemetry_then_oldest_events_and_never_an_alarm(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.db", max_events=4) as spool:
        for event_id, kind in [("v1", EventKind.VITALS), ("m1", EventKind.MOTION), ("s1", EventKind.SOS),
                               ("m2", EventKind.MOTION), ("v2", EventKind.VITALS), ("m3", EventKind.MOTION),
                               ("s2", EventKind.SOS), ("s3", EventKind.SOS), ("s4", EventKind.SOS),
                               ("s5", EventKind.SOS)]:
            spool.append(event_id, lambda seq, i=event_id, k=kind: [_event(i, k, seq)])
        kept = [decode_event(body, "h1", 1_800_000_000.0).id for _, _, body in spool.peek(100)]  # type: ignore[union-attr]
        # Alarms are kept beyond the bound rather than dropped: the bound is for what can be lost.
        assert kept == ["s1", "s2", "s3", "s4", "s5"]
        assert spool.depth() == 5
        assert spool.dropped() == {"dropped_bulk": 2, "dropped_normal": 3}
