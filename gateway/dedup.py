"""Remembers recently seen event ids so QoS 1 redeliveries and spool replays count once."""

from __future__ import annotations

DEFAULT_CAPACITY = 200_000


class RecentIds:
    """A bounded set of ids in two generations: O(1) per check, no per-item eviction bookkeeping.

    An id stays remembered for at least `capacity` later ids and at most twice that. Redeliveries come
    within seconds to hours of the original; size the capacity for the ids a worker sees in that time.
    """

    __slots__ = ("_capacity", "_current", "_previous")

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self._capacity = capacity
        self._current: set[str] = set()
        self._previous: set[str] = set()

    def seen(self, event_id: str) -> bool:
        """True if `event_id` was seen before; otherwise remember it and return False."""
        current = self._current
        if event_id in current or event_id in self._previous:
            return True
        current.add(event_id)
        if len(current) >= self._capacity:
            self._previous = current
            self._current = set()
        return False

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)
