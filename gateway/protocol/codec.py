"""Fast validating decode and encode of the canonical messages (msgspec, no per-field Python)."""

from __future__ import annotations

from typing import Final

import msgspec

from gateway.protocol.messages import Alert, Event, HomeStatus, Rejected, RejectReason

EARLIEST_PLAUSIBLE_TS: Final = 1_577_836_800.0  # 2020-01-01T00:00:00Z: no device we serve is older
DEFAULT_MAX_FUTURE_SKEW_S: Final = 3600.0  # cheap hubs drift; an hour ahead is already a broken clock

_event_decoder = msgspec.json.Decoder(Event)
_alert_decoder = msgspec.json.Decoder(Alert)
_alerts_decoder = msgspec.json.Decoder(list[Alert])
_status_decoder = msgspec.json.Decoder(HomeStatus)
_encoder = msgspec.json.Encoder()

encode = _encoder.encode


def _rejection(exc: msgspec.MsgspecError) -> Rejected:
    text = str(exc)
    if isinstance(exc, msgspec.ValidationError):
        if text.startswith("Invalid enum value") and text.endswith("`$.kind`"):
            return Rejected(RejectReason.UNKNOWN_KIND, text)
        return Rejected(RejectReason.SCHEMA, text)
    return Rejected(RejectReason.MALFORMED_JSON, text)


def decode_event(
    payload: bytes,
    topic_home: str,
    now: float,
    *,
    max_future_skew_s: float = DEFAULT_MAX_FUTURE_SKEW_S,
) -> Event | Rejected:
    """Decode and validate one event published under `topic_home`'s topic.

    Returns the event, or why it was refused: never raises on bad input.
    """
    try:
        event = _event_decoder.decode(payload)
    except msgspec.MsgspecError as exc:
        return _rejection(exc)
    if event.home != topic_home:
        return Rejected(
            RejectReason.HOME_MISMATCH,
            f"topic home {topic_home!r} differs from payload home {event.home!r}; event dropped",
        )
    if not EARLIEST_PLAUSIBLE_TS <= event.ts <= now + max_future_skew_s:
        return Rejected(
            RejectReason.ABSURD_TIMESTAMP,
            f"ts {event.ts} is before 2020 or more than {max_future_skew_s:.0f} s ahead of {now:.0f}",
        )
    return event


def decode_status(payload: bytes, topic_home: str) -> HomeStatus | Rejected:
    """Decode a home's status message; refused like events when malformed or spoofed."""
    try:
        status = _status_decoder.decode(payload)
    except msgspec.MsgspecError as exc:
        return _rejection(exc)
    if status.home != topic_home:
        return Rejected(
            RejectReason.HOME_MISMATCH,
            f"topic home {topic_home!r} differs from status home {status.home!r}; status dropped",
        )
    return status


def decode_alert(payload: bytes) -> Alert:
    """Decode one alert; raises `msgspec.ValidationError`/`DecodeError` with the offending path."""
    return _alert_decoder.decode(payload)


def decode_alerts(payload: bytes) -> list[Alert]:
    """Decode a JSON array of alerts, as the gateway forwards them in batches."""
    return _alerts_decoder.decode(payload)
