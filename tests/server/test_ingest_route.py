"""POST /api/ingest/alerts (server/api/routes/ingest.py), through a real server and a real SQLite file."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.protocol import Alert, encode
from server.config import ServerSettings
from server.run import ServerThread
from tests.server.conftest import ADMIN_HEADERS

RESPONDER_PHONE = "+8613800000001"
OPERATOR_PHONE = "+8610000000000"


def _register(client: httpx.Client) -> None:
    client.post("/api/homes", json={"id": "h0003", "community": "east"}).raise_for_status()
    for name, phone, community, on_duty in [
        ("Wang", RESPONDER_PHONE, "east", True),
        ("Li", "+8613800000002", "east", False),  # off duty
        ("Zhao", "+8613800000003", "west", True),  # another community
    ]:
        body = {"name": name, "phone": phone, "community": community, "on_duty": on_duty}
        client.post("/api/responders", json=body).raise_for_status()


def _post(client: httpx.Client, alerts: list[Alert], **kwargs: Any) -> httpx.Response:
    return client.post("/api/ingest/alerts", content=encode(alerts), **kwargs)


def _sent(client: httpx.Client) -> list[dict[str, Any]]:
    rows = client.get("/api/notifications").json()
    return rows if rows and all(row["status"] == "sent" for row in rows) else []


def test_alert_is_stored_and_reaches_the_on_duty_responder_at_once(
    client: httpx.Client,
    new_alert: Callable[..., Alert],
    outbox_stream: io.StringIO,
    wait_until: Callable[..., Any],
) -> None:
    """Guards the thinnest path: press → stored alert → an SMS and a call to the right person within a second."""
    _register(client)
    alert = new_alert(ts=datetime(2026, 11, 24, 3, 0, 12, tzinfo=UTC).timestamp())

    response = _post(client, [alert])

    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0}
    [stored] = client.get("/api/alerts").json()
    assert stored["id"] == alert.id
    assert (stored["home"], stored["type"], stored["severity"]) == ("h0003", "SOS", "critical")
    assert (stored["device"], stored["event_id"]) == ("sos_button", alert.event_id)
    assert datetime.fromisoformat(stored["opened_at"]) == datetime(2026, 11, 24, 3, 0, 12, tzinfo=UTC)
    assert datetime.fromisoformat(stored["received_at"]).utcoffset().total_seconds() == 0
    rows = wait_until(lambda: len(_sent(client)) == 2 and _sent(client), timeout_s=1.0, message="not sent")
    [voice, sms] = rows  # newest first: the critical ladder's first step texts and calls at once
    for notification in (sms, voice):
        assert notification["alert_id"] == alert.id
        assert notification["to"] == RESPONDER_PHONE
        assert notification["attempts"] == 1
        assert notification["sent_at"] is not None
    assert (sms["channel"], voice["channel"]) == ("sms", "voice")
    expected = (
        f"HomeSafe SOS at home h0003 (device sos_button) 2026-11-24 03:00:12Z. Step 1/5. "
        f"Reply 1 to accept, ref {stored['ref']}"
    )
    assert sms["body"] == expected
    assert f"[outbox] SMS to {RESPONDER_PHONE}: {expected}\n" in outbox_stream.getvalue()
    assert client.get("/api/alerts").json()[0]["status"] == "notified"


def test_replayed_alert_is_stored_and_notified_once(
    client: httpx.Client,
    new_alert: Callable[..., Alert],
    outbox_stream: io.StringIO,
    wait_until: Callable[..., Any],
) -> None:
    """Guards against a gateway replay (or a batch repeating an alert) paging a responder twice."""
    _register(client)
    alert = new_alert()

    first = _post(client, [alert, alert])
    second = _post(client, [alert])

    assert first.json() == {"accepted": 1, "duplicates": 1}
    assert second.json() == {"accepted": 0, "duplicates": 1}
    assert [row["id"] for row in client.get("/api/alerts").json()] == [alert.id]
    wait_until(lambda: _sent(client), message="no sent notification")
    notifications = client.get("/api/notifications", params={"alert_id": alert.id}).json()
    assert len(notifications) == 2  # one SMS and one call, once
    wait_until(lambda: outbox_stream.getvalue().count("\n") == 2, message="not both sent")


def test_batch_mixing_new_and_known_alerts_counts_both(
    client: httpx.Client, new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards the counts the gateway uses to know its batch was taken, and the newest-first order."""
    old, new = new_alert(ts=1_790_000_000.0), new_alert(home="h0004", ts=1_790_000_100.0)  # one home: merged
    _post(client, [old]).raise_for_status()

    response = _post(client, [old, new])

    assert response.json() == {"accepted": 1, "duplicates": 1}
    assert [row["id"] for row in client.get("/api/alerts").json()] == [new.id, old.id]
    assert [row["id"] for row in client.get("/api/alerts", params={"limit": 1}).json()] == [new.id]
    assert client.get("/api/alerts", params={"home": "elsewhere"}).json() == []


def test_alert_of_an_unregistered_home_goes_to_the_operator(
    start_server: Callable[..., ServerThread],
    settings: ServerSettings,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards "no alert is lost": a home missing from the registry still reaches a human."""
    server = start_server(replace(settings, operator_phone=OPERATOR_PHONE))
    with httpx.Client(base_url=server.url, headers=ADMIN_HEADERS) as client:
        _post(client, [new_alert(home="h9999")]).raise_for_status()

        [notification] = wait_until(lambda: _sent(client), message="operator not notified")

    assert notification["to"] == OPERATOR_PHONE


def test_alert_of_a_community_with_nobody_on_duty_goes_to_the_operator(
    client: httpx.Client, new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards the night when every responder of a community is off duty."""
    client.post("/api/homes", json={"id": "h0007", "community": "north"}).raise_for_status()
    off = {"name": "Sun", "phone": "+8613800000009", "community": "north", "on_duty": False}
    client.post("/api/responders", json=off).raise_for_status()

    _post(client, [new_alert(home="h0007")]).raise_for_status()

    [notification] = wait_until(lambda: _sent(client), message="operator not notified")
    assert notification["to"] == ServerSettings().operator_phone


@pytest.mark.parametrize(
    ("body", "expected_in_detail"),
    [
        (b"[{oops", "JSON is malformed"),
        (b"", "truncated"),
        (b'{"id": "a1"}', "Expected `array`, got `object`"),
        (
            b'[{"id": "a1", "home": "h0003", "type": "SOS", "severity": "bogus", "ts": 1.0, "raised_at": 1.0}]',
            "$[0].severity",
        ),
        (
            b'[{"id": "a1", "home": "h0003", "type": "SOS", "severity": "critical", "ts": "soon", "raised_at": 1.0}]',
            "$[0].ts",
        ),
        (b'[{"id": "a1", "type": "SOS", "severity": "critical", "ts": 1.0, "raised_at": 1.0}]', "`home`"),
    ],
    ids=["not-json", "empty", "not-an-array", "unknown-severity", "ts-not-a-number", "missing-home"],
)
def test_malformed_batch_is_refused_with_the_reason_and_stores_nothing(
    client: httpx.Client,
    new_alert: Callable[..., Alert],
    body: bytes,
    expected_in_detail: str,
) -> None:
    """Guards against bad input being half-stored, or poisoning the route for the next good batch."""
    response = client.post("/api/ingest/alerts", content=body)

    assert response.status_code == 422
    assert expected_in_detail in response.json()["detail"]
    assert client.get("/api/alerts").json() == []
    assert client.get("/api/notifications").json() == []
    assert _post(client, [new_alert()]).json() == {"accepted": 1, "duplicates": 0}


def test_ingest_token_is_required_when_set(
    start_server: Callable[..., ServerThread], settings: ServerSettings, new_alert: Callable[..., Alert]
) -> None:
    """Guards against anyone on the network raising alerts when the deployment set a token."""
    server = start_server(replace(settings, ingest_token="s3cret"))
    with httpx.Client(base_url=server.url) as client:
        missing = _post(client, [new_alert()])
        wrong = _post(client, [new_alert()], headers={"Authorization": "Bearer guess"})
        not_bearer = _post(client, [new_alert()], headers={"Authorization": "Basic s3cret"})
        right = _post(client, [new_alert()], headers={"Authorization": "Bearer s3cret"})
        stored = client.get("/api/alerts", headers=ADMIN_HEADERS).json()

    assert [r.status_code for r in (missing, wrong, not_bearer)] == [401, 401, 401]
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert "ingest token" in missing.json()["detail"]
    assert right.status_code == 200
    assert len(stored) == 1
