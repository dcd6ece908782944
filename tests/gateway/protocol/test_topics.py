"""The topic layout: shards are stable, spoofable parts are refused, nothing else builds topics."""

import zlib

import pytest

from gateway.protocol import Stream, downlink_topic, parse_shard_spec, parse_topic, shard_filter, shard_of, uplink_topic


def test_shard_is_crc32_mod_256_and_stable() -> None:
    # Guards against a shard function that differs between processes (Python's hash() is salted).
    assert shard_of("h0001") == zlib.crc32(b"h0001") % 256
    assert all(0 <= shard_of(f"h{i}") < 256 for i in range(1000))


def test_uplink_topic_round_trips_through_parse() -> None:
    topic = uplink_topic("h0001", Stream.EVENTS)
    assert topic == f"hs/v1/{shard_of('h0001')}/h0001/events"
    parts = parse_topic(topic)
    assert parts is not None
    assert (parts.shard, parts.home, parts.stream) == (shard_of("h0001"), "h0001", Stream.EVENTS)
    assert downlink_topic("h0001").endswith("/h0001/cmd")


@pytest.mark.parametrize("home", ["", "a/b", "a+b", "a#", "x" * 65, "with space"])
def test_home_ids_that_would_break_topics_are_refused(home: str) -> None:
    with pytest.raises(ValueError, match="invalid home id"):
        uplink_topic(home, Stream.EVENTS)


def test_cmd_is_not_an_uplink_stream() -> None:
    with pytest.raises(ValueError, match="not an uplink stream"):
        uplink_topic("h1", Stream.CMD)


@pytest.mark.parametrize(
    "topic",
    ["hs/v1/1/h1", "hs/v2/1/h1/events", "hs/v1/x/h1/events", "hs/v1/256/h1/events", "hs/v1/1/h1/other",
     "hs/v1/1//events", "zigbee2mqtt/button"],
)
def test_malformed_topics_parse_to_none(topic: str) -> None:
    assert parse_topic(topic) is None


def test_shard_specs() -> None:
    assert parse_shard_spec("all") == frozenset(range(256))
    assert parse_shard_spec("0-3,10") == frozenset({0, 1, 2, 3, 10})
    with pytest.raises(ValueError, match="outside"):
        parse_shard_spec("250-300")
    with pytest.raises(ValueError, match="expected N or N-M"):
        parse_shard_spec("a-b")
    assert shard_filter(7) == "hs/v1/7/+/+"
