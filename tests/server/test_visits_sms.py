"""SMS check-in: a visitor texts "VISIT h0042 all well" to the Twilio number and the visit is logged.

A real server with the Twilio webhooks switched on (auth token and public URL set) and the console
outbox for what it sends; inbound texts are posted to `/webhooks/twilio/sms` exactly as Twilio posts
them, form-encoded and signed over the public URL. The registry is written straight into the database.
"""

from __future__ import annotations

import itertools
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.protocol import Alert, encode
from server.config import ServerSettings
from server.notifiers.replies import parse_check_in
from server.run import ServerThread
from tests.fakes.twilio_server import twilio_signature
from tests.server.conftest import ADMIN_TOKEN, FAST_SWEEP_S
from tests.server.test_visits import Registry

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
PUBLIC = "https://homesafe.test/hs"
OUR_NUMBER = "+15005550006"
VISITOR = "+8613800000001"
SMS_PATH = "/webhooks/twilio/sms"

_sids = itertools.count(1)


@pytest.fixture
def settings(db_url: str) -> ServerSettings:
    """The test server's settings with Twilio's inbound webhooks on (signed with `AUTH_TOKEN` over `PUBLIC`)."""
    return ServerSettings(
        database_url=db_url,
        port=0,
        dispatch_interval_s=FAST_SWEEP_S,
        admin_token=ADMIN_TOKEN,
        twilio_auth_token=AUTH_TOKEN,
        public_base_url=PUBLIC,
    )


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    reg = Registry(db_url)
    yield reg
    reg.close()


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


def text_in(server: ServerThread, body: str, *, from_: str = VISITOR, sid: str | None = None) -> httpx.Response:
    """POST an inbound SMS as Twilio does: its form fields, signed over the public URL."""
    params = {
        "MessageSid": sid or new_sid(),
        "AccountSid": ACCOUNT_SID,
        "From": from_,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    signature = twilio_signature(AUTH_TOKEN, PUBLIC + SMS_PATH, params)
    return httpx.post(server.url + SMS_PATH, data=params, headers={"X-Twilio-Signature": signature}, timeout=5.0)


def answer(response: httpx.Response) -> str:
    """The one message of a TwiML answer."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    [message] = ET.fromstring(response.text).iter("Message")
    return message.text or ""


@pytest.mark.postgres
def test_check_in_by_sms_logs_one_visit_even_when_twilio_delivers_it_twice(
    server: ServerThread, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """Guards the SMS check-in end to end, and Twilio's retries: one MessageSid, one visit, one audit row."""
    registry.home("h0042", "c1")
    visitor = registry.responder("c1", phone=VISITOR)
    sid = new_sid()
    notes = "all well, fridge full"

    with caplog.at_level(logging.DEBUG):
        first = text_in(server, f"VISIT h0042 {notes}", sid=sid)
        again = text_in(server, f"VISIT h0042 {notes}", sid=sid)

    assert answer(first) == "HomeSafe: visit to h0042 logged. Thank you."
    assert answer(again) == answer(first)  # the retry is answered, not refused: the visitor sees one confirmation
    [visit] = registry.visits()
    assert (visit.home, visit.responder_id, visit.channel, visit.notes) == ("h0042", visitor, "sms", notes)
    assert (visit.source_id, visit.logged_by) == (sid, f"responder:{visitor}")
    assert (datetime.now(UTC) - visit.at).total_seconds() < 30
    [audit] = registry.audit()
    assert (audit.actor, audit.action, audit.entity_id) == (f"responder:{visitor}", "create", str(visit.id))
    assert notes not in caplog.text and VISITOR not in caplog.text


@pytest.mark.postgres
def test_concurrent_redeliveries_of_one_message_log_one_visit(server: ServerThread, registry: Registry) -> None:
    """Guards the race behind retries: deliveries of one MessageSid arriving together still make one visit."""
    registry.home("h0042", "c1")
    registry.responder("c1", phone=VISITOR)
    sid = new_sid()

    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda _: answer(text_in(server, "VISIT h0042 ok", sid=sid)), range(8)))

    assert set(replies) == {"HomeSafe: visit to h0042 logged. Thank you."}
    assert len(registry.visits()) == 1
    assert len(registry.audit()) == 1


def test_each_new_message_is_a_new_visit(server: ServerThread, registry: Registry) -> None:
    """Guards the other side of de-duplication: two texts (two MessageSids) are two visits."""
    registry.home("h0042", "c1")
    registry.responder("c1", phone=VISITOR)

    text_in(server, "VISIT h0042 morning")
    text_in(server, "VISIT h0042 evening")

    assert [visit.notes for visit in registry.visits()] == ["morning", "evening"]


@pytest.mark.parametrize(
    ("body", "notes", "reply"),
    [
        ("visit h0042 ok", "ok", "HomeSafe: visit to h0042 logged. Thank you."),
        ("Visit: H0042", None, "HomeSafe: visit to h0042 logged. Thank you."),
        ("探访 h0042 一切正常", "一切正常", "平安守护: 已记录您对 h0042 的探访. 谢谢."),
        ("探访h0042\uff0c冰箱有菜", "冰箱有菜", "平安守护: 已记录您对 h0042 的探访. 谢谢."),
        (
            "\uff36\uff29\uff33\uff29\uff34\u3000\uff48\uff10\uff10\uff14\uff12",
            None,
            "HomeSafe: visit to h0042 logged. Thank you.",
        ),  # full-width, from a Chinese IME
    ],
)
def test_check_in_is_read_in_any_case_and_in_chinese(
    server: ServerThread, registry: Registry, body: str, notes: str | None, reply: str
) -> None:
    """Guards visitors typing on any phone: case, a colon, 探访, full-width input and Chinese commas all work."""
    registry.home("h0042", "c1")
    registry.responder("c1", phone=VISITOR)

    assert answer(text_in(server, body)) == reply
    assert [(visit.home, visit.notes) for visit in registry.visits()] == [("h0042", notes)]


def test_check_in_from_an_unknown_number_stores_nothing(server: ServerThread, registry: Registry) -> None:
    """Guards against anyone who learns the number logging visits: a polite answer, nothing stored."""
    registry.home("h0042", "c1")
    registry.responder("c1", phone=VISITOR)

    reply = answer(text_in(server, "VISIT h0042 all fine", from_="+8613999999999"))

    assert "not registered as a visitor" in reply
    assert "h0042" not in reply
    assert registry.visits() == []
    assert registry.audit() == []


def test_check_in_for_a_home_outside_the_visitors_communities_stores_nothing(
    server: ServerThread, registry: Registry
) -> None:
    """Guards community scope over SMS: a c2 visitor cannot log c1's visits; an unknown home is answered the same."""
    registry.home("h0042", "c1")
    registry.responder("c2", phone=VISITOR)

    other = answer(text_in(server, "VISIT h0042 ok"))
    unknown = answer(text_in(server, "VISIT h9999 ok"))

    assert other == "HomeSafe: h0042 is not among the homes you visit; no visit was logged. Check the home code."
    assert unknown == other.replace("h0042", "h9999")  # whether a home exists elsewhere is not told
    assert registry.visits() == []


def test_assigned_visitor_checks_in_to_a_home_of_another_community(server: ServerThread, registry: Registry) -> None:
    """Guards assignments over SMS: the assigned visitor of a home may check in there whatever their community."""
    registry.home("h0042", "c1")
    visitor = registry.responder("c2", phone=VISITOR)
    registry.assign("h0042", visitor)

    assert answer(text_in(server, "VISIT h0042")) == "HomeSafe: visit to h0042 logged. Thank you."
    assert [visit.responder_id for visit in registry.visits()] == [visitor]


def test_check_in_without_a_home_code_says_how(server: ServerThread, registry: Registry) -> None:
    """Guards a bare "VISIT": the visitor learns the format, nothing is stored."""
    registry.responder("c1", phone=VISITOR)

    assert "VISIT h0042" in answer(text_in(server, "visit"))
    assert "探访 h0042" in answer(text_in(server, "探访"))
    assert registry.visits() == []


def test_unsigned_check_in_is_refused_and_stores_nothing(server: ServerThread, registry: Registry) -> None:
    """Guards against forged check-ins from a spoofed number: the webhook takes only Twilio-signed posts."""
    registry.home("h0042", "c1")
    registry.responder("c1", phone=VISITOR)
    params = {"MessageSid": new_sid(), "From": VISITOR, "To": OUR_NUMBER, "Body": "VISIT h0042"}

    unsigned = httpx.post(server.url + SMS_PATH, data=params, timeout=5.0)
    forged = httpx.post(server.url + SMS_PATH, data=params, headers={"X-Twilio-Signature": "AAAA"}, timeout=5.0)

    assert (unsigned.status_code, forged.status_code) == (403, 403)
    assert registry.visits() == []


def test_reply_1_still_acknowledges_an_alert_next_to_check_ins(
    server: ServerThread,
    client: httpx.Client,
    registry: Registry,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards the alert path through the same webhook: "1" accepts the alert, a check-in beside it changes nothing."""
    registry.home("h0003", "c1")
    registry.responder("c1", phone=VISITOR)
    alert = new_alert(home="h0003")
    client.post("/api/ingest/alerts", content=encode([alert])).raise_for_status()
    wait_until(
        lambda: [row for row in client.get("/api/notifications", params={"alert_id": alert.id}).json()
                 if row["to"] == VISITOR and row["channel"] == "sms"],
        timeout_s=5.0,
        message="no SMS to the responder",
    )  # fmt: skip
    ref = client.get(f"/api/alerts/{alert.id}").json()["ref"]

    checked_in = answer(text_in(server, "VISIT h0003 on my way"))
    accepted = answer(text_in(server, "1"))

    assert checked_in == "HomeSafe: visit to h0003 logged. Thank you."
    assert accepted == f"HomeSafe: thank you, you accepted alert {ref}. Please go now."
    alert_now = client.get(f"/api/alerts/{alert.id}").json()
    assert (alert_now["status"], alert_now["ack_channel"]) == ("acknowledged", "sms")
    assert len(registry.visits()) == 1


@pytest.mark.parametrize("text", ["1", "1 K3F9Q2", "\uff11", "visiting later", "VISITh0042", "ok", ""])
def test_alert_replies_and_chatter_are_not_check_ins(text: str) -> None:
    """Guards the alert path: "1" (with or without a code) and other words are never taken for a check-in."""
    assert parse_check_in(text) is None


def test_chatter_that_starts_like_visit_gets_the_alert_help(server: ServerThread, registry: Registry) -> None:
    """Guards against "visiting later" logging a visit: it is answered as any unknown reply is."""
    registry.home("h0042", "c1")
    registry.responder("c1", phone=VISITOR)

    assert "reply 1 to accept" in answer(text_in(server, "visiting later"))
    assert registry.visits() == []
