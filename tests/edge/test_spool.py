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
        ids = [decode_event(body, "h1", 1_800_000_000.0).id for _, body in batch]  # type: ignore[union-attr]
        assert ids == ["s1", "f1", "m1", "m2"]
        reopened.remove([pos for pos, _ in batch[:2]])
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
