"""The HomeSafe wire contract: topics, canonical messages, codec and broker transport.

Edge, gateway, server and simulators import the contract from here; nothing re-declares it.
"""

from gateway.protocol.codec import (
    DEFAULT_MAX_FUTURE_SKEW_S,
    decode_alert,
    decode_alerts,
    decode_event,
    decode_status,
    encode,
)
from gateway.protocol.messages import (
    SEVERITY_OF,
    Alert,
    AlertType,
    Event,
    EventKind,
    HomeStatus,
    Rejected,
    RejectReason,
    Severity,
)
from gateway.protocol.topics import (
    SHARD_COUNT,
    Stream,
    TopicParts,
    downlink_topic,
    parse_shard_spec,
    parse_topic,
    shard_filter,
    shard_of,
    uplink_topic,
    valid_home_id,
)
from gateway.protocol.transport import BrokerSettings, aiomqtt_options, paho_client

__all__ = [
    "DEFAULT_MAX_FUTURE_SKEW_S",
    "SEVERITY_OF",
    "SHARD_COUNT",
    "Alert",
    "AlertType",
    "BrokerSettings",
    "Event",
    "EventKind",
    "HomeStatus",
    "RejectReason",
    "Rejected",
    "Severity",
    "Stream",
    "TopicParts",
    "aiomqtt_options",
    "decode_alert",
    "decode_alerts",
    "decode_event",
    "decode_status",
    "downlink_topic",
    "encode",
    "paho_client",
    "parse_shard_spec",
    "parse_topic",
    "shard_filter",
    "shard_of",
    "uplink_topic",
    "valid_home_id",
]
