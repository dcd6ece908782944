"""A durable queue of alerts on their way to the server (SQLite, WAL).

An alert is written here before the event that caused it is acknowledged to the broker, and deleted
only once the server has stored it, so neither a server outage nor a gateway crash loses it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from gateway.protocol import Alert, decode_alert, encode
from gateway.sqlitefile import open_wal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL
)
"""


class AlertOutbox:
    """Thread-safe: the MQTT thread appends, the forwarder thread peeks and removes."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        # FULL: an alert acknowledged upstream must survive a power cut of the gateway host.
        self._db = open_wal(self.path, _SCHEMA, synchronous="FULL")

    def append(self, alerts: Sequence[Alert]) -> None:
        """Store alerts durably; an id already queued is kept once."""
        rows = [(a.id, encode(a)) for a in alerts]
        with self._lock:
            self._db.executemany("INSERT OR IGNORE INTO outbox (alert_id, body) VALUES (?, ?)", rows)

    def peek(self, limit: int = 100) -> list[tuple[int, Alert]]:
        """The oldest queued alerts with their queue positions, without removing them."""
        with self._lock:
            rows = self._db.execute("SELECT seq, body FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(seq, decode_alert(body)) for seq, body in rows]

    def remove_through(self, seq: int) -> None:
        """Forget every alert up to and including queue position `seq` (the server has them)."""
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE seq <= ?", (seq,))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
