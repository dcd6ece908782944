"""The registry drives escalation end to end: a resident's category picks the ladder, the assigned visitor
is told first, and shifts decide who is on duty. Real server, alerts posted as the gateway posts them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from gateway.protocol import Alert, AlertType, Severity, encode

RESPONDER = "+8613800000001"
VISITOR = "+8613700000001"


def _register(client: httpx.Client, *, category: str, visitor_shift: dict[str, Any] | None = None) -> None:
    client.post("/api/homes", json={"id": "h0003", "community": "east"}).raise_for_status()
    client.post("/api/residents", json={"home": "h0003", "name": "Resident", "age": 82, "category": category,
                                        "consent": True}).raise_for_status()
    client.post("/api/responders", json={"name": "On duty", "phone": RESPONDER, "community": "east"}).raise_for_status()
    # The visitor is of another community: only the assignment makes them hear of this home.
    visitor = client.post("/api/responders", json={"name": "Visitor", "phone": VISITOR, "community": "visitors"})
    visitor_id = visitor.raise_for_status().json()["id"]
    client.post("/api/assignments", json={"home": "h0003", "responder_id": visitor_id}).raise_for_status()
    if visitor_shift is not None:
        client.post("/api/shifts", json={"responder_id": visitor_id, **visitor_shift}).raise_for_status()


def _first_step(client: httpx.Client, alert: Alert) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    client.post("/api/ingest/alerts", content=encode([alert])).raise_for_status()
    detail = client.get(f"/api/alerts/{alert.id}").json()
    notifications = client.get("/api/notifications", params={"alert_id": alert.id}).json()
    return detail, sorted((n["to"], n["channel"]) for n in notifications)


def _inactivity(new_alert: Callable[..., Alert]) -> Alert:
    return new_alert(type=AlertType.INACTIVITY, severity=Severity.HIGH, device="hall_motion")


def test_inactivity_of_a_special_difficulty_resident_goes_to_the_assigned_visitor_first(
    client: httpx.Client, new_alert: Callable[..., Alert]
) -> None:
    """Guards visiting care: an elder living alone who stops moving is checked on by their visitor, by SMS
    and a call, before the community's on-duty responder is disturbed."""
    _register(client, category="special_difficulty")

    detail, first = _first_step(client, _inactivity(new_alert))

    assert (detail["category"], detail["ladder"]["rule"]) == ("special_difficulty", "high-vulnerable")
    assert first == [(VISITOR, "sms"), (VISITOR, "voice")]


def test_home_without_a_vulnerable_resident_gets_the_plain_rule(
    client: httpx.Client, new_alert: Callable[..., Alert]
) -> None:
    """Guards that the category comes from the registered residents: an `other` home's visitor gets an SMS only."""
    _register(client, category="other")

    detail, first = _first_step(client, _inactivity(new_alert))

    assert (detail["category"], detail["ladder"]["rule"]) == ("other", "high")
    assert first == [(VISITOR, "sms")]


def test_visitor_off_shift_is_skipped_for_the_on_duty_responder(
    client: httpx.Client, new_alert: Callable[..., Alert]
) -> None:
    """Guards the visitor's time off: outside their shift the ladder skips them and the responder is told."""
    # A whole-day shift on a day that is neither today nor yesterday in Shanghai: off duty now.
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    off_day = (today + timedelta(days=3)).weekday()
    shift = {"days": [off_day], "start": "00:00", "end": "00:00", "timezone": "Asia/Shanghai"}
    _register(client, category="special_difficulty", visitor_shift=shift)

    detail, first = _first_step(client, _inactivity(new_alert))

    assert first == [(RESPONDER, "sms"), (RESPONDER, "voice")]
    skipped = [entry for entry in detail["timeline"] if entry["kind"] == "step_skipped"]
    assert [entry["step"] for entry in skipped] == [0]
