"""The hub's durable store-and-forward queue (SQLite, WAL).

Every canonical event is written here before it is published and removed only when the central
broker acknowledged it, so an uplink outage or a `kill -9` of the agent loses nothing. Alarms
drain first; within a priority, events keep their order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from gateway.protocol import Event, EventKind, encode

URGENT_KINDS = frozenset({EventKind.SOS, EventKind.SMOKE, EventKind.GAS, EventKind.WATER, EventKind.FALL})
PRIORITY_URGENT = 0
PRIORITY_NORMAL = 1

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
"""


def priority_of(event: Event) -> int:
    """Alarms jump the queue: after an outage, an SOS goes up before the motion that followed it."""
    return PRIORITY_URGENT if event.kind in URGENT_KINDS else PRIORITY_NORMAL


class Spool:
    """One agent's spool; not shared between processes. Use as a context manager or call `close()`."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # The agent may be built on one thread and run its loop on another; SQLite serialises access.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def append(self, device: str, build: Callable[[int], list[Event]]) -> list[Event]:
        """Stamp the device's next sequence numbers and store the events in one transaction.

        `build(first_seq)` makes the events; the sequence counter survives restarts with them.
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT seq FROM device_seq WHERE device = ?", (device,)).fetchone()
            events = build(row[0] + 1 if row else 0)
            if events:
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
        return events

    def peek(self, limit: int = 50) -> list[tuple[int, bytes]]:
        """The next events to publish, alarms first, as (position, encoded event)."""
        return self._db.execute(
            "SELECT pos, body FROM spool ORDER BY priority, pos LIMIT ?", (limit,)
        ).fetchall()

    def remove(self, positions: list[int]) -> None:
        """Forget events the central broker acknowledged."""
        self._db.executemany("DELETE FROM spool WHERE pos = ?", [(p,) for p in positions])

    def depth(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM spool").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
