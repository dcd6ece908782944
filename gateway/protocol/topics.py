"""Topic layout of the uplink and downlink, with the shard that routes a home to one worker.

Every home's traffic carries its shard (`crc32(home) % 256`) in the topic, so a gateway worker can
subscribe to exactly the shards it owns on any broker, without shared subscriptions.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import StrEnum

TOPIC_ROOT = "hs/v1"
SHARD_COUNT = 256
MAX_HOME_ID_LENGTH = 64


class Stream(StrEnum):
    """The last topic segment: what a message on the topic is."""

    EVENTS = "events"
    TELEMETRY = "telemetry"
    STATUS = "status"
    CMD = "cmd"


UPLINK_STREAMS = frozenset({Stream.EVENTS, Stream.TELEMETRY, Stream.STATUS})
_STREAM_BY_NAME = {s.value: s for s in Stream}


@dataclass(slots=True, frozen=True)
class TopicParts:
    """A parsed `hs/v1/{shard}/{home}/{stream}` topic."""

    shard: int
    home: str
    stream: Stream


def shard_of(home: str) -> int:
    """The shard a home belongs to; stable across processes and languages (CRC-32, IEEE)."""
    return zlib.crc32(home.encode()) % SHARD_COUNT


def valid_home_id(home: str) -> bool:
    """Home ids become topic segments, so they must not carry MQTT wildcards, separators or spaces."""
    return (
        0 < len(home) <= MAX_HOME_ID_LENGTH
        and "/" not in home
        and "+" not in home
        and "#" not in home
        and home.isprintable()
        and not any(ch.isspace() for ch in home)
    )


def uplink_topic(home: str, stream: Stream | str) -> str:
    """The topic a home publishes `stream` on."""
    stream = Stream(stream)
    if stream not in UPLINK_STREAMS:
        raise ValueError(f"{stream!r} is not an uplink stream; expected one of {sorted(UPLINK_STREAMS)}")
    if not valid_home_id(home):
        raise ValueError(f"invalid home id {home!r}: 1-{MAX_HOME_ID_LENGTH} printable chars, no '/', '+', '#', spaces")
    return f"{TOPIC_ROOT}/{shard_of(home)}/{home}/{stream}"


def downlink_topic(home: str) -> str:
    """The topic a home's hub listens on for commands (acknowledgements, configuration)."""
    if not valid_home_id(home):
        raise ValueError(f"invalid home id {home!r}")
    return f"{TOPIC_ROOT}/{shard_of(home)}/{home}/{Stream.CMD}"


def shard_filter(shard: int, stream: Stream | str = "+") -> str:
    """The subscription filter for one shard's uplink (all streams unless one is named)."""
    if not 0 <= shard < SHARD_COUNT:
        raise ValueError(f"shard {shard} out of range 0..{SHARD_COUNT - 1}")
    return f"{TOPIC_ROOT}/{shard}/+/{stream}"


def parse_topic(topic: str) -> TopicParts | None:
    """Split a topic into its parts; `None` if it is not a well-formed HomeSafe topic."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != "hs" or parts[1] != "v1":
        return None
    shard_text, home, stream_name = parts[2], parts[3], parts[4]
    stream = _STREAM_BY_NAME.get(stream_name)
    if stream is None or not shard_text.isdigit() or not home:
        return None
    shard = int(shard_text)
    if shard >= SHARD_COUNT:
        return None
    return TopicParts(shard, home, stream)


def parse_shard_spec(spec: str) -> frozenset[int]:
    """Parse a shard set such as `all`, `0-127` or `0-63,128-191,255`."""
    spec = spec.strip()
    if spec in ("", "all", "*"):
        return frozenset(range(SHARD_COUNT))
    shards: set[int] = set()
    for piece in spec.split(","):
        lo_text, sep, hi_text = piece.strip().partition("-")
        try:
            lo = int(lo_text)
            hi = int(hi_text) if sep else lo
        except ValueError:
            raise ValueError(f"bad shard range {piece!r} in {spec!r}; expected N or N-M, e.g. 0-127") from None
        if not 0 <= lo <= hi < SHARD_COUNT:
            raise ValueError(f"shard range {piece!r} outside 0..{SHARD_COUNT - 1}")
        shards.update(range(lo, hi + 1))
    return frozenset(shards)
