"""Residents' and staff's personal data never reaches the logs, whichever path an alert takes.

A whole realistic flow runs with distinctive names, phone numbers and conditions: registry writes (one
refused), a CSV import, an SOS, the ladder climbing to the family through the console outbox and through
the real `twilio` library against the strict local Twilio (with a rate limit and an undeliverable SMS on
the way), the family's "1" by SMS, and a resolution with a note. Every log record of the process, at
DEBUG, from every logger (uvicorn's included), is captured on the root logger and searched.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from gateway.protocol import Alert, encode
from server import redaction
from server.config import ServerSettings
from server.notifiers import ConsoleOutbox
from server.run import ServerThread
from tests.fakes.twilio_server import FakeTwilio
from tests.server.conftest import ADMIN_HEADERS

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM = "+15005550006"
PUBLIC = "https://homesafe.test/hs"
HOME = "h-pii-1"
RESIDENT, CONDITION = "Zhang Guihua", "dementia-xyz"
IMPORTED, IMPORTED_CONDITION = "Zhou Meilan", "parkinson-xyz"
FIRST, SECOND = ("Wang Jianguo", "+8613811110001"), ("Chen Meifang", "+8613811110002")
CONTACT = ("Li Xiuying", "+8613922220003")
OPERATOR = "+8610000009999"
NOTE = f"{RESIDENT} had dropped the pendant; daughter {CONTACT[0]} stays tonight"
# What must never be logged: the strings, and each number by its digits (so "+86...", "%2B86..." and
# "86 138..." all count).
SECRETS: Final = (RESIDENT, CONDITION, IMPORTED, IMPORTED_CONDITION, FIRST[0], SECOND[0], CONTACT[0],
                  *(phone[3:] for phone in (FIRST[1], SECOND[1], CONTACT[1], OPERATOR)))


class Capture(logging.Handler):
    """Every record that reaches the root logger, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{self.format(record)} {record.__dict__.get('extra', '')}")


def _open_every_logger() -> None:
    """Let uvicorn's loggers (set to WARNING and not propagating by the server's config) through too."""
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and (name.startswith("uvicorn") or not logger.propagate):
            logger.setLevel(logging.DEBUG)
            logger.propagate = True


@pytest.fixture
def captured() -> Iterator[Capture]:
    root = logging.getLogger()
    saved_root = root.level
    saved = {
        name: (logger.level, logger.propagate)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    handler = Capture()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    _open_every_logger()
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for name, logger in logging.root.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.level, logger.propagate = saved.get(name, (logging.NOTSET, True))


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, numbers=(FROM,), callback_delay_s=0.02) as twilio:
        yield twilio


def _leaks(lines: list[str]) -> list[str]:
    return [line for line in lines if any(secret in line for secret in SECRETS)]


def _register(http: httpx.Client) -> int:
    """The home, its resident, two responders and a family contact; returns the contact's id."""
    http.post("/api/homes", json={"id": HOME, "community": "c-pii", "address": "7 Lane"}).raise_for_status()
    resident = http.post("/api/residents", json={
        "home": HOME, "name": RESIDENT, "age": 87, "category": "other", "conditions": [CONDITION], "consent": True})
    resident.raise_for_status()
    http.patch(f"/api/residents/{resident.json()['id']}", json={"conditions": [CONDITION, "deaf"]}).raise_for_status()
    for name, phone in (FIRST, SECOND):
        http.post("/api/responders", json={"name": name, "phone": phone, "community": "c-pii"}).raise_for_status()
    refused = http.post("/api/contacts", json={"home": HOME, "name": CONTACT[0], "phone": CONTACT[1] + "999999"})
    assert refused.status_code == 422
    contact = http.post("/api/contacts", json={"home": HOME, "name": CONTACT[0], "phone": CONTACT[1]})
    contact.raise_for_status()
    csv = f"home,name,age,category,conditions,consent\n{HOME},{IMPORTED},90,other,{IMPORTED_CONDITION},true\n"
    http.post("/api/import/residents", content=csv, headers={"Content-Type": "text/csv"}).raise_for_status()
    return int(contact.json()["id"])


def _sent_to(http: httpx.Client, phone: str) -> list[dict[str, Any]]:
    rows = http.get("/api/notifications", params={"limit": 1000}).raise_for_status().json()
    return [row for row in rows if row["to"] == phone and row["sent_at"] is not None]


@pytest.mark.parametrize("notifier", ["console", "twilio"])
def test_a_whole_alert_flow_logs_no_names_phone_numbers_or_conditions(
    notifier: str,
    captured: Capture,
    fake: FakeTwilio,
    tmp_path: Path,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards "personal data never appears in logs" end to end, on both notifiers."""
    settings = ServerSettings(
        database_url=f"sqlite:///{tmp_path / 'homesafe.db'}", port=0, dispatch_interval_s=0.05,
        admin_token=ADMIN_HEADERS["Authorization"].removeprefix("Bearer "), time_scale=0.02,
        operator_phone=OPERATOR, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_from=FROM,
        public_base_url=PUBLIC, link_secret="test-link-secret-0123456789",
    )
    outbox = io.StringIO()
    if notifier == "twilio":
        settings = replace(settings, notifier="twilio", twilio_api_url=fake.url)
        fake.fail_next(1, status=429)  # the first send is rate-limited and retried
        fake.undeliverable(FIRST[1])  # the first responder's SMS bounces: the ladder climbs at once
    server = ServerThread(settings, notifier=ConsoleOutbox(outbox) if notifier == "console" else None).start()
    _open_every_logger()  # uvicorn configured its loggers as the server started
    try:
        fake.forward(PUBLIC, server.url)
        with httpx.Client(base_url=server.url, timeout=5.0, headers=ADMIN_HEADERS) as http:
            contact_id = _register(http)
            alert = new_alert(home=HOME)
            http.post("/api/ingest/alerts", content=encode([alert])).raise_for_status()
            wait_until(lambda: _sent_to(http, CONTACT[1]), timeout_s=15.0, message="the family was not reached")

            reply = fake.inbound_sms(from_=CONTACT[1], body="1", url=f"{PUBLIC}/webhooks/twilio/sms")
            assert reply.status_code == 200 and "accepted" in reply.text
            acked = http.get(f"/api/alerts/{alert.id}").json()
            assert acked["acknowledged_by"] == f"contact:{contact_id}"
            http.post(f"/api/alerts/{alert.id}/resolve", json={"outcome": "resident_fine", "note": NOTE}
                      ).raise_for_status()
        fake.wait_idle()
    finally:
        server.stop()

    assert len(captured.lines) > 10, captured.lines
    assert any("acknowledged by sms reply" in line for line in captured.lines), captured.lines
    if notifier == "twilio":
        assert any(line.startswith("twilio.http_client") for line in captured.lines)
        assert any("refused" in line or "not sent" in line for line in captured.lines)
    else:
        assert f"SMS to {CONTACT[1]}" in outbox.getvalue()  # the message itself, on the outbox stream only
    assert _leaks(captured.lines) == []


def test_twilio_request_log_and_tracebacks_mask_numbers(captured: Capture) -> None:
    """Guards the loggers we do not write: the Twilio library's request log and a traceback quoting a number."""
    redaction.install()
    twilio_log = logging.getLogger("twilio.http_client")
    twilio_log.setLevel(logging.DEBUG)

    twilio_log.info("POST Request: %s?%s", "https://api.twilio.com/Messages.json", "To=%2B8613811110001")
    try:
        raise ValueError(f"cannot text {SECOND[1]}")
    except ValueError:
        logging.getLogger("server.dispatch").exception("notifier %s raised %s", "twilio", "ValueError")

    assert "To=%2B86*******0001" in captured.lines[-2]
    assert "cannot text +86*******0002" in captured.lines[-1]
    assert _leaks(captured.lines) == []
