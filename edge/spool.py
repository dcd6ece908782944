"""The hub's durable store-and-forward queue (SQLite, WAL).

Every canonical event is written here before it is published and removed only when the central
broker acknowledged it, so an uplink outage or a `kill -9` of the agent loses nothing. Alarms
drain first; within a class, events keep their order. The spool is bounded: when full, the oldest
bulk telemetry goes first, then the oldest ordinary events; alarms are never dropped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from enum import IntEnum
from pathlib import Path

from gateway.protocol import Event, EventKind, encode

DEFAULT_MAX_EVENTS = 200_000  # ~40 MB of events: days of a home's traffic, weeks of its alarms


class Priority(IntEnum):
    """Drain order, and the reverse of drop order."""

    URGENT = 0  # help requests and hazards: first out, never dropped
    NORMAL = 1  # what the detectors read: motion, doors, bed, presence, availability
    BULK = 2  # telemetry: vitals, acceleration bursts, device health


_PRIORITY_OF_KIND: dict[EventKind, Priority] = {
    EventKind.SOS: Priority.URGENT,
    EventKind.SMOKE: Priority.URGENT,
    EventKind.GAS: Priority.URGENT,
    EventKind.WATER: Priority.URGENT,
    EventKind.FALL: Priority.URGENT,
    EventKind.VITALS: Priority.BULK,
    EventKind.ACCEL: Priority.BULK,
    EventKind.DEVICE_HEALTH: Priority.BULK,
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    priority INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS spool_order ON spool (priority, pos);
CREATE TABLE IF NOT EXISTS device_seq (
    device TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


def priority_of(event: Event) -> Priority:
    """Alarms jump the queue: after an outage, an SOS goes up before the motion that followed it."""
    return _PRIORITY_OF_KIND.get(event.kind, Priority.NORMAL)


class Spool:
    """One agent's spool; not shared between processes. Use as a context manager or call `close()`."""

    def __init__(self, path: str | Path, *, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if max_events < 1:
            raise ValueError(f"max_events must be at least 1, got {max_events}")
        self.path = str(path)
        self.max_events = max_events
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # The agent may be built on one thread and run its loop on another; SQLite serialises access.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: an event stored here may already have been acknowledged to the device side.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._depth = int(self._db.execute("SELECT COUNT(*) FROM spool").fetchone()[0])

    def append(self, device: str, build: Callable[[int], list[Event]]) -> list[Event]:
        """Stamp the device's next sequence numbers and store the events in one transaction.

        `build(first_seq)` makes the events; the sequence counter survives restarts with them.
        """
        db = self._db
        dropped = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT seq FROM device_seq WHERE device = ?", (device,)).fetchone()
            events = build(row[0] + 1 if row else 0)
            if events:
                overflow = self._depth + len(events) - self.max_events
                if overflow > 0:
                    dropped = self._drop_oldest(overflow)
                db.executemany(
                    "INSERT INTO spool (priority, body) VALUES (?, ?)",
                    [(priority_of(e), encode(e)) for e in events],
                )
                db.execute(
                    "INSERT INTO device_seq (device, seq) VALUES (?, ?) "
                    "ON CONFLICT (device) DO UPDATE SET seq = excluded.seq",
                    (device, max(e.seq for e in events)),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._depth += len(events) - dropped
        return events

    def _drop_oldest(self, count: int) -> int:
        """Make room: oldest bulk first, then oldest normal; never an urgent event. Inside a transaction."""
        dropped = 0
        for priority in (Priority.BULK, Priority.NORMAL):
            if dropped >= count:
                break
            cursor = self._db.execute(
                "DELETE FROM spool WHERE pos IN (SELECT pos FROM spool WHERE priority = ? ORDER BY pos LIMIT ?)",
                (priority, count - dropped),
            )
            if cursor.rowcount > 0:
                self._db.execute(
                    "INSERT INTO counters (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                    (f"dropped_{priority.name.lower()}", cursor.rowcount),
                )
                dropped += cursor.rowcount
        return dropped

    def peek(self, limit: int = 50) -> list[tuple[int, Priority, bytes]]:
        """The next events to publish, alarms first, as (position, priority, encoded event)."""
        rows = self._db.execute("SELECT pos, priority, body FROM spool ORDER BY priority, pos LIMIT ?", (limit,))
        return [(pos, Priority(priority), body) for pos, priority, body in rows]

    def remove(self, positions: list[int]) -> None:
        """Forget events the central broker acknowledged."""
        cursor = self._db.executemany("DELETE FROM spool WHERE pos = ?", [(p,) for p in positions])
        self._depth -= max(cursor.rowcount, 0)

    def depth(self) -> int:
        """Events waiting for the uplink."""
        return self._depth

    def dropped(self) -> dict[str, int]:
        """Events dropped to keep the spool bounded, by class, since the spool was created."""
        return dict(self._db.execute("SELECT name, value FROM counters WHERE name LIKE 'dropped_%'").fetchall())

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
