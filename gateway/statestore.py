"""Where a gateway worker keeps its homes' state between runs (SQLite), so a restart keeps learned
routines and episodes in progress instead of starting every home from nothing.

Snapshots are written for the homes that changed since the last save, every few seconds and at stop;
what happened after the last save and before a crash is at most that old.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from gateway.homestate import HomeState
from gateway.sqlitefile import open_wal

_LOGGER = logging.getLogger(__name__)

_SCHEMA = "CREATE TABLE IF NOT EXISTS homes (home TEXT PRIMARY KEY, snapshot BLOB NOT NULL)"


class StateStore:
    """A table of `HomeState` snapshots keyed by home."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = open_wal(self.path, _SCHEMA)

    def save(self, homes: Iterable[HomeState]) -> int:
        """Write these homes' snapshots in one transaction; returns how many."""
        rows = [(home.home, home.snapshot()) for home in homes]
        if rows:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO homes (home, snapshot) VALUES (?, ?)", rows)
                self._db.execute("COMMIT")
        return len(rows)

    def load(self) -> dict[str, HomeState]:
        """Every saved home, rebuilt; a snapshot that cannot be read is skipped and logged."""
        with self._lock:
            rows = self._db.execute("SELECT home, snapshot FROM homes").fetchall()
        homes: dict[str, HomeState] = {}
        for home, blob in rows:
            try:
                homes[home] = HomeState.restore(blob)
            except (ValueError, KeyError, TypeError) as exc:
                _LOGGER.warning("home %s: saved state unreadable (%s); starting it fresh", home, exc)
        return homes

    def close(self) -> None:
        with self._lock:
            self._db.close()
