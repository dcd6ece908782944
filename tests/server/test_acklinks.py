"""One-time ack links (server/acklinks.py, server/api/routes/acklinks.py), over real HTTP on a real server.

The links work with any notifier, so these tests run the zero-set-up console outbox.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from gateway.protocol import Alert, encode
from server.acklinks import ack_link_for, issue_token
from server.config import ServerSettings
from server.db.tables import NotificationRow
from server.run import ServerThread
from tests.server.conftest import ADMIN_HEADERS

RESPONDER = "+8613800000001"
SECRET = "test-link-secret-0123456789"


def _sms_row(server: ServerThread, alert: Alert, wait_until: Callable[..., Any]) -> NotificationRow:
    """Register a responder, ingest `alert`, and return its first SMS notification row."""
    http = httpx.Client(base_url=server.url, timeout=5.0, headers=ADMIN_HEADERS)
    http.post("/api/homes", json={"id": alert.home, "community": "c1"}).raise_for_status()
    http.post("/api/responders", json={"name": "r", "phone": RESPONDER, "community": "c1"}).raise_for_status()
    http.post("/api/ingest/alerts", content=encode([alert])).raise_for_status()

    def first_row() -> NotificationRow | None:
        with server.app.state.sessions() as session:
            return session.scalars(
                select(NotificationRow)
                .where(NotificationRow.alert_id == alert.id, NotificationRow.channel == "sms")
                .order_by(NotificationRow.id)
            ).first()

    return wait_until(first_row, timeout_s=2.0, message="no notification stored")


def _path(server: ServerThread, row: NotificationRow, **kwargs: Any) -> str:
    """The path of the row's link (the test server's settings have no public URL)."""
    return urlsplit(ack_link_for(row, settings=server.app.state.settings, **kwargs)).path


def _alert_status(server: ServerThread, alert_id: str) -> str:
    alerts = httpx.get(f"{server.url}/api/alerts", headers=ADMIN_HEADERS, timeout=5.0).json()
    return next(alert["status"] for alert in alerts if alert["id"] == alert_id)


@pytest.fixture
def linked_server(start_server: Callable[..., ServerThread], settings: ServerSettings) -> ServerThread:
    return start_server(replace(settings, link_secret=SECRET))


def test_link_page_asks_and_only_post_acknowledges(
    linked_server: ServerThread, new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards against a link preview (GET) accepting an alert, and against the page showing personal data."""
    alert = new_alert()
    row = _sms_row(linked_server, alert, wait_until)
    path = _path(linked_server, row)

    page = httpx.get(linked_server.url + path)

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<form method="post">' in page.text
    for private in (RESPONDER, alert.home, alert.device or "", "responder"):
        assert private not in page.text
    assert _alert_status(linked_server, alert.id) != "acknowledged"

    accepted = httpx.post(linked_server.url + path)

    assert accepted.status_code == 200
    assert "accepted" in accepted.text
    assert _alert_status(linked_server, alert.id) == "acknowledged"


def test_used_link_is_gone(
    linked_server: ServerThread, new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards single use: a forwarded or replayed link cannot acknowledge again."""
    row = _sms_row(linked_server, new_alert(), wait_until)
    path = _path(linked_server, row)
    assert httpx.post(linked_server.url + path).status_code == 200

    again = httpx.post(linked_server.url + path)
    page = httpx.get(linked_server.url + path)

    assert (again.status_code, page.status_code) == (410, 410)
    assert "already used" in again.text


def test_concurrent_clicks_spend_the_link_once(
    linked_server: ServerThread, new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards the single-use check against a double tap racing itself."""
    row = _sms_row(linked_server, new_alert(), wait_until)
    path = _path(linked_server, row)
    codes: list[int] = []
    barrier = threading.Barrier(4)

    def click() -> None:
        barrier.wait()
        codes.append(httpx.post(linked_server.url + path, timeout=10.0).status_code)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes) == [200, 410, 410, 410]


def test_expired_link_is_gone(
    linked_server: ServerThread, new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards expiry: a link found in an old SMS a day later does not acknowledge today's state."""
    alert = new_alert()
    row = _sms_row(linked_server, alert, wait_until)
    path = _path(linked_server, row, now=datetime.now(UTC) - timedelta(hours=25))

    response = httpx.post(linked_server.url + path)

    assert response.status_code == 410
    assert "expired" in response.text
    assert _alert_status(linked_server, alert.id) != "acknowledged"


@pytest.mark.parametrize("forgery", ["changed character", "other secret", "other recipient", "truncated", "junk"])
def test_forged_link_is_refused_and_changes_nothing(
    linked_server: ServerThread, new_alert: Callable[..., Alert], wait_until: Callable[..., Any], forgery: str
) -> None:
    """Guards against guessing or editing a link into acknowledging an alert (or another one)."""
    alert = new_alert()
    row = _sms_row(linked_server, alert, wait_until)
    token = _path(linked_server, row).rsplit("/", 1)[1]
    expires = datetime.now(UTC) + timedelta(hours=1)
    if forgery == "changed character":
        token = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    elif forgery == "other secret":
        token = issue_token(
            secret="x" * 32, notification_id=row.id, alert_id=row.alert_id, recipient=row.to, expires_at=expires
        )
    elif forgery == "other recipient":
        token = issue_token(
            secret=SECRET, notification_id=row.id, alert_id=row.alert_id, recipient="+8613999999999", expires_at=expires
        )
    elif forgery == "truncated":
        token = token[:-1]
    else:
        token = "not-a-token"

    post = httpx.post(f"{linked_server.url}/a/{token}")
    get = httpx.get(f"{linked_server.url}/a/{token}")

    assert (post.status_code, get.status_code) == (403, 403)
    assert _alert_status(linked_server, alert.id) != "acknowledged"


def test_links_survive_a_restart_when_the_secret_is_set(
    linked_server: ServerThread, new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards HOMESAFE_LINK_SECRET: links sent before a restart still work after it."""
    alert = new_alert()
    row = _sms_row(linked_server, alert, wait_until)
    path = _path(linked_server, row)

    linked_server.stop()
    linked_server.start()

    assert httpx.post(linked_server.url + path).status_code == 200
    assert _alert_status(linked_server, alert.id) == "acknowledged"


def test_without_a_secret_links_die_with_a_restart_and_a_warning_says_so(
    server: ServerThread,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Guards the zero-set-up default: links work, and the operator is told they will not outlive the process."""
    alert = new_alert()
    row = _sms_row(server, alert, wait_until)
    path = _path(server, row)

    with caplog.at_level("WARNING", logger="server.acklinks"):
        server.stop()
        server.start()

    assert any("HOMESAFE_LINK_SECRET is unset" in record.getMessage() for record in caplog.records)
    assert httpx.post(server.url + path).status_code == 403
    assert _alert_status(server, alert.id) != "acknowledged"


def test_the_sms_itself_carries_a_working_one_time_link(
    start_server: Callable[..., ServerThread], settings: ServerSettings, new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against links that exist only in tests: where two-way SMS is unavailable, the SMS body's
    own link must be what acknowledges the alert."""
    server = start_server(replace(settings, link_secret=SECRET, public_base_url="https://homesafe.example.org"))
    alert = new_alert()
    row = _sms_row(server, alert, wait_until)
    assert "Accept: https://homesafe.example.org/a/" in row.body
    path = urlsplit(row.body.rsplit("Accept: ", 1)[1]).path
    assert httpx.post(server.url + path, timeout=5.0).status_code == 200
    assert _alert_status(server, alert.id) == "acknowledged"
