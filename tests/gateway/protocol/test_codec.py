"""Decoding refuses bad input with a reason and never raises."""

import time

import pytest

from gateway.protocol import Event, EventKind, Rejected, RejectReason, decode_event, encode

NOW = time.time()


def _event(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "e1", "home": "h1", "device": "btn", "kind": "sos", "ts": NOW, "seq": 3}
    base.update(overrides)
    return base


def test_valid_event_round_trips() -> None:
    event = Event(id="e1", home="h1", device="btn", kind=EventKind.SOS, ts=NOW, seq=3, data={"action": "hold"})
    decoded = decode_event(encode(event), "h1", NOW)
    assert decoded == event


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", RejectReason.MALFORMED_JSON),
        (b"", RejectReason.MALFORMED_JSON),
        (encode(_event(kind="teleport")), RejectReason.UNKNOWN_KIND),
        (encode(_event(seq="three")), RejectReason.SCHEMA),
        (encode(_event(seq=-1)), RejectReason.SCHEMA),
        (encode(_event(kind=5)), RejectReason.SCHEMA),
        (encode({"home": "h1"}), RejectReason.SCHEMA),
        (encode([1, 2]), RejectReason.SCHEMA),
        (encode(_event(home="h2")), RejectReason.HOME_MISMATCH),
        (encode(_event(ts=1000.0)), RejectReason.ABSURD_TIMESTAMP),
        (encode(_event(ts=NOW + 86_400)), RejectReason.ABSURD_TIMESTAMP),
    ],
)
def test_bad_events_are_rejected_with_reason(payload: bytes, reason: RejectReason) -> None:
    result = decode_event(payload, "h1", NOW)
    assert isinstance(result, Rejected)
    assert result.reason is reason, result.detail
    assert result.detail


def test_home_mismatch_detail_names_both_homes() -> None:
    result = decode_event(encode(_event(home="h2")), "h1", NOW)
    assert isinstance(result, Rejected)
    assert "'h1'" in result.detail and "'h2'" in result.detail
