"""The zero-set-up notifier: prints each message as one readable line.

The stored outbox is the `notifications` table; this stream is just where a person watching the
demo sees the messages go out. The lines are the messages themselves, number and all, so they go to
the stream and never through `logging`, whose records end up in log files and collectors.
"""

from __future__ import annotations

import itertools
import sys
import threading
from typing import TextIO


class ConsoleOutbox:
    """Writes `[outbox] SMS to <to>: <body>` lines to a stream (stdout unless given) and flushes."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, *, to: str, channel: str, body: str, notification_id: int | None = None) -> str:
        """Write the message line and return an id like `console-1` (nothing calls back, so the row id is unused)."""
        # Resolve stdout at send time, so a stream swapped in later (pytest capture, the CLI) is used.
        stream = self.stream if self.stream is not None else sys.stdout
        with self._lock:
            message_id = f"console-{next(self._ids)}"
            stream.write(f"[outbox] {channel.upper()} to {to}: {body}\n")
            stream.flush()
        return message_id
