"""Twilio end to end: a real server (twilio notifier) ↔ the real `twilio` library ↔ a strict local Twilio.

The server runs in a `ServerThread` with settings that select the twilio notifier and point it at the
fake (`twilio_api_url`); the fake sends status callbacks, inbound SMS and keypresses back, signed with
the auth token, to `public_base_url` (`https://homesafe.test/hs`), which it forwards to the server the
way a reverse proxy in front of it would. Nothing of HomeSafe is replaced.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from gateway.protocol import Alert, encode
from server.config import ServerSettings
from server.crud import lifecycle
from server.db.tables import NotificationRow
from server.notifiers.replies import Reply, parse_reply
from server.run import ServerThread
from tests.fakes.twilio_server import FakeCall, FakeTwilio, twilio_signature
from tests.server.conftest import ADMIN_HEADERS, ADMIN_TOKEN

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM = "+15005550006"
PUBLIC = "https://homesafe.test/hs"
RESPONDER = "+8613800000001"
SECOND = "+8613800000002"
SWEEP_S = 0.05


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    # 50 ms before each webhook, like Twilio's asynchronous ones (and well after the dispatcher settles the send).
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, numbers=(FROM,), callback_delay_s=0.05) as twilio:
        yield twilio


@pytest.fixture
def twilio_settings(tmp_path: Path, fake: FakeTwilio) -> ServerSettings:
    """A test server whose notifier is Twilio, pointed at the fake, behind `PUBLIC`."""
    return ServerSettings(
        database_url=f"sqlite:///{tmp_path / 'homesafe.db'}",
        port=0,
        dispatch_interval_s=SWEEP_S,
        notifier="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=FROM,
        twilio_api_url=fake.url,
        public_base_url=PUBLIC,
        link_secret="test-link-secret-0123456789",
        admin_token=ADMIN_TOKEN,
    )


@pytest.fixture
def server(twilio_settings: ServerSettings, fake: FakeTwilio) -> Iterator[ServerThread]:
    with ServerThread(twilio_settings) as running:
        fake.forward(PUBLIC, running.url)
        yield running


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5.0, headers=ADMIN_HEADERS) as http:
        yield http


def _register(client: httpx.Client, *phones: str, home: str = "h0003") -> None:
    client.post("/api/homes", json={"id": home, "community": "c1"}).raise_for_status()
    for index, phone in enumerate(phones):
        client.post(
            "/api/responders", json={"name": f"responder {index}", "phone": phone, "community": "c1"}
        ).raise_for_status()


def _ingest(client: httpx.Client, alert: Alert) -> None:
    client.post("/api/ingest/alerts", content=encode([alert])).raise_for_status()


def _notifications(client: httpx.Client, alert_id: str, **match: Any) -> list[dict[str, Any]]:
    """The alert's notifications, oldest first, keeping those whose fields equal `match`."""
    rows = sorted(client.get("/api/notifications", params={"alert_id": alert_id}).json(), key=lambda row: row["id"])
    return [row for row in rows if all(row[name] == value for name, value in match.items())]


def _alert(client: httpx.Client, alert_id: str) -> dict[str, Any]:
    return next(alert for alert in client.get("/api/alerts").json() if alert["id"] == alert_id)


def _signed_post(server: ServerThread, path: str, params: dict[str, str], *, token: str = AUTH_TOKEN) -> httpx.Response:
    """POST `params` to `path` as Twilio would, signed with `token` over the public URL."""
    headers = {"X-Twilio-Signature": twilio_signature(token, PUBLIC + path, params)}
    return httpx.post(server.url + path, data=params, headers=headers, timeout=5.0)


def _say_texts(document: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(document).iter("Say")]


def _sos(client: httpx.Client, new_alert: Callable[..., Alert], *phones: str) -> Alert:
    """Register the responders and ingest an SOS: its ladder's step 1 texts and calls the first of them."""
    _register(client, *phones)
    alert = new_alert()
    _ingest(client, alert)
    return alert


def _answered_call(fake: FakeTwilio, wait_until: Callable[..., Any], to: str = RESPONDER) -> FakeCall:
    return wait_until(
        lambda: [call for call in fake.calls if call.to == to and call.answered.is_set()],
        timeout_s=3.0,
        message=f"no answered call to {to}",
    )[0]


def test_sos_sends_sms_and_call_through_twilio_and_delivery_is_recorded(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards the whole way out: the SOS text and call leave through the real library, receipts come back."""
    alert = _sos(client, new_alert, RESPONDER)

    [sms] = wait_until(
        lambda: _notifications(client, alert.id, channel="sms", status="delivered"),
        timeout_s=3.0,
        message="no delivery receipt recorded",
    )
    call = _answered_call(fake, wait_until)
    [voice] = _notifications(client, alert.id, channel="voice")
    [message] = fake.messages
    ref = _alert(client, alert.id)["ref"]
    assert (message.from_, message.to, message.body) == (FROM, RESPONDER, sms["body"])
    assert ref in message.body
    assert message.status_callback == f"{PUBLIC}/webhooks/twilio/status?n={sms['id']}"
    assert sms["provider_id"] == message.sid
    assert (call.from_, call.to, call.sid) == (FROM, RESPONDER, voice["provider_id"])
    assert call.url == f"{PUBLIC}/webhooks/twilio/voice?n={voice['id']}"
    assert call.status_callback == f"{PUBLIC}/webhooks/twilio/status?n={voice['id']}"
    fake.wait_idle()
    assert {hook.status for hook in fake.sent_webhooks("/webhooks/twilio/status")} == {204}


def test_rate_limited_send_is_retried_not_dropped(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards "no alert lost on SMS provider errors": a 429 delays a message, then it goes out once."""
    fake.fail_next(1, status=429)

    alert = _sos(client, new_alert, RESPONDER)

    rows = wait_until(
        lambda: (
            (rows := _notifications(client, alert.id, to=RESPONDER)) and all(r["provider_id"] for r in rows) and rows
        ),
        timeout_s=5.0,
        message="step-1 messages not all sent",
    )
    assert sorted(row["attempts"] for row in rows) == [1, 2]  # the 429 cost one retry, nothing more
    assert sorted(request.status for request in fake.requests) == [201, 201, 429]
    assert (len(fake.messages), len(fake.calls)) == (1, 1)


def test_number_twilio_refuses_fails_without_retry_and_escalates(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against retrying forever what Twilio refuses for good (400, 21211), or waiting out the step."""
    fake.invalid_number(RESPONDER)

    alert = _sos(client, new_alert, RESPONDER, SECOND)

    refused = wait_until(
        lambda: (rows := _notifications(client, alert.id, to=RESPONDER)) and all(r["error"] for r in rows) and rows,
        timeout_s=3.0,
        message="refused messages not marked failed",
    )
    assert [(row["status"], row["attempts"], "error 21211" in row["error"]) for row in refused] == [
        ("failed", 1, True),
        ("failed", 1, True),
    ]
    # Step 2 (the next responder) is brought forward at once, not after step 1's 60 s wait.
    wait_until(lambda: _notifications(client, alert.id, to=SECOND), timeout_s=3.0, message="no escalation")
    assert [request.status for request in fake.requests if request.params.get("To") == [RESPONDER]] == [400, 400]


def test_undelivered_sms_escalates_at_once(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against waiting out a whole ladder step for someone whose phone the SMS never reached."""
    fake.undeliverable(RESPONDER, error_code=30003)

    alert = _sos(client, new_alert, RESPONDER, SECOND)

    [sms] = wait_until(
        lambda: [row for row in _notifications(client, alert.id, channel="sms", to=RESPONDER) if row["error"]],
        timeout_s=3.0,
        message="undelivered receipt not recorded",
    )
    assert sms["status"] == "failed"  # the lifecycle settles every provider failure as failed
    assert sms["error"] == "twilio undelivered (error 30003)"
    # Step 2 was brought forward: the next responder hears now, not after step 1's 60 s wait.
    wait_until(lambda: _notifications(client, alert.id, to=SECOND), timeout_s=3.0, message="no escalation")
    assert _alert(client, alert.id)["status"] != "acknowledged"


def test_voice_call_reads_the_alert_and_keypress_1_acknowledges(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards the call path: the alert is read out, "1" accepts it through the voice channel."""
    alert = _sos(client, new_alert, RESPONDER)
    call = _answered_call(fake, wait_until)
    [voice] = _notifications(client, alert.id, channel="voice")

    greeting = ET.fromstring(call.documents[0])
    gather = greeting.find("Gather")
    assert gather is not None
    assert (gather.get("numDigits"), gather.get("action")) == ("1", call.url)
    assert voice["body"] in _say_texts(call.documents[0])

    answer = fake.press(call.sid, "1")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert any("accepted this alert" in text for text in _say_texts(answer.text))
    assert _alert(client, alert.id)["status"] == "acknowledged"
    wait_until(
        lambda: _notifications(client, alert.id, channel="voice", status="delivered"),
        timeout_s=3.0,
        message="completed call not recorded",
    )


def test_other_key_repeats_the_question_and_acknowledges_nothing(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against any key, or a pocket press, accepting an alert."""
    alert = _sos(client, new_alert, RESPONDER)
    call = _answered_call(fake, wait_until)

    answer = fake.press(call.sid, "7")

    assert ET.fromstring(answer.text).find("Gather") is not None
    assert _alert(client, alert.id)["status"] != "acknowledged"


def test_call_answered_after_someone_else_accepted_says_so(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against a second person being sent (or told "accepted") when the alert was already taken."""
    alert = _sos(client, new_alert, RESPONDER)
    call = _answered_call(fake, wait_until)
    with server.app.state.sessions() as session:
        lifecycle.acknowledge(session=session, alert_id=alert.id, actor="contact:9", channel="web")

    answer = fake.press(call.sid, "1")

    assert "already accepted" in " ".join(_say_texts(answer.text))
    assert _alert(client, alert.id)["status"] == "acknowledged"


def test_busy_call_escalates_at_once(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against a busy or unanswered call counting as told."""
    fake.call_outcome(RESPONDER, "busy")

    alert = _sos(client, new_alert, RESPONDER, SECOND)

    [row] = wait_until(
        lambda: [row for row in _notifications(client, alert.id, channel="voice", to=RESPONDER) if row["error"]],
        timeout_s=3.0,
        message="busy not recorded",
    )
    assert (row["status"], row["error"]) == ("failed", "twilio busy")
    wait_until(lambda: _notifications(client, alert.id, to=SECOND), timeout_s=3.0, message="no escalation")


@pytest.mark.parametrize(
    "text", ["1", " 1 ", "\uff11", "1 {ref}", "1{ref_lower}", " 1  {ref_lower} "]
)  # \uff11: full-width
def test_reply_1_from_the_responder_acknowledges(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
    text: str,
) -> None:
    """Guards two-way SMS: "1", with or without the code, any case and spacing, accepts the alert."""
    alert = _sos(client, new_alert, RESPONDER)
    wait_until(lambda: fake.messages, timeout_s=3.0, message="no SMS sent")
    ref = _alert(client, alert.id)["ref"]

    answer = fake.inbound_sms(
        from_=RESPONDER, body=text.format(ref=ref, ref_lower=ref.lower()), url=f"{PUBLIC}/webhooks/twilio/sms"
    )

    assert answer.status_code == 200
    [message] = ET.fromstring(answer.text).iter("Message")
    assert message.text == f"HomeSafe: thank you, you accepted alert {ref}. Please go now."
    acknowledged = _alert(client, alert.id)
    assert acknowledged["status"] == "acknowledged"


def test_reply_after_someone_else_accepted_says_so(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against telling a second responder "you accepted" (and sending them) when someone was first."""
    alert = _sos(client, new_alert, RESPONDER)
    wait_until(lambda: fake.messages, timeout_s=3.0, message="no SMS sent")
    ref = _alert(client, alert.id)["ref"]
    with server.app.state.sessions() as session:
        lifecycle.acknowledge(session=session, alert_id=alert.id, actor="contact:9", channel="web")

    answer = fake.inbound_sms(from_=RESPONDER, body="1", url=f"{PUBLIC}/webhooks/twilio/sms")

    [message] = ET.fromstring(answer.text).iter("Message")
    assert message.text == f"HomeSafe: alert {ref} was already accepted or closed. Thank you."


def test_reply_from_a_stranger_acknowledges_nothing_and_tells_nothing(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against a number that was never notified accepting an alert, or learning about one."""
    alert = _sos(client, new_alert, RESPONDER)
    wait_until(lambda: fake.messages, timeout_s=3.0, message="no SMS sent")

    answer = fake.inbound_sms(from_="+8613999999999", body="1", url=f"{PUBLIC}/webhooks/twilio/sms")

    [message] = ET.fromstring(answer.text).iter("Message")
    assert message.text == "HomeSafe: there is no open alert for this number to accept."
    assert _alert(client, alert.id)["status"] != "acknowledged"


def test_reply_not_understood_says_how_to_accept(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against "ok" or "coming" being taken as an acceptance, or getting no answer at all."""
    alert = _sos(client, new_alert, RESPONDER)
    wait_until(lambda: fake.messages, timeout_s=3.0, message="no SMS sent")

    answer = fake.inbound_sms(from_=RESPONDER, body="ok coming", url=f"{PUBLIC}/webhooks/twilio/sms")

    [message] = ET.fromstring(answer.text).iter("Message")
    assert "reply 1 to accept" in (message.text or "")
    assert _alert(client, alert.id)["status"] != "acknowledged"


def _delivered_sms(
    client: httpx.Client, fake: FakeTwilio, new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> tuple[Alert, dict[str, Any]]:
    """An SOS whose step-1 SMS was delivered, with every webhook about it sent."""
    alert = _sos(client, new_alert, RESPONDER, SECOND)
    [sms] = wait_until(
        lambda: _notifications(client, alert.id, channel="sms", status="delivered"),
        timeout_s=3.0,
        message="SMS not delivered",
    )
    _answered_call(fake, wait_until)
    fake.wait_idle()
    return alert, sms


@pytest.mark.parametrize("forgery", ["unsigned", "other token", "other notification", "tampered field"])
def test_unsigned_or_wrongly_signed_status_callback_is_refused_and_changes_nothing(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
    forgery: str,
) -> None:
    """Guards against anyone on the internet marking a message undelivered (or an alert escalated)."""
    alert, sms = _delivered_sms(client, fake, new_alert, wait_until)
    before = _notifications(client, alert.id)
    path = f"/webhooks/twilio/status?n={sms['id']}"
    params = {"MessageSid": sms["provider_id"], "MessageStatus": "undelivered", "ErrorCode": "30003"}

    if forgery == "unsigned":
        response = httpx.post(server.url + path, data=params)
    elif forgery == "other token":
        response = _signed_post(server, path, params, token="someone-elses-token-0123456789")
    elif forgery == "other notification":
        # A genuine signature for another URL cannot be moved to this one.
        signature = twilio_signature(AUTH_TOKEN, f"{PUBLIC}/webhooks/twilio/status?n={sms['id'] + 1}", params)
        response = httpx.post(server.url + path, data=params, headers={"X-Twilio-Signature": signature})
    else:
        signature = twilio_signature(AUTH_TOKEN, PUBLIC + path, params)
        response = httpx.post(
            server.url + path, data={**params, "ErrorCode": "30005"}, headers={"X-Twilio-Signature": signature}
        )

    assert response.status_code == 403
    assert _notifications(client, alert.id) == before


@pytest.mark.parametrize("path", ["/webhooks/twilio/sms", "/webhooks/twilio/voice?n=1", "/webhooks/twilio/voice?n=2"])
def test_unsigned_reply_or_keypress_is_refused_and_acknowledges_nothing(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
    path: str,
) -> None:
    """Guards against a forged "1" from a spoofed number, or a forged keypress, taking an alert."""
    alert = _sos(client, new_alert, RESPONDER)
    wait_until(lambda: fake.messages, timeout_s=3.0, message="no SMS sent")
    params = {"From": RESPONDER, "To": FROM, "Body": "1", "Digits": "1", "CallSid": "CA" + "0" * 32}

    unsigned = httpx.post(server.url + path, data=params)
    wrong = _signed_post(server, path, params, token="someone-elses-token-0123456789")
    forged_get = httpx.get(server.url + path, params={"Digits": "1"}, headers={"X-Twilio-Signature": "AAAA"})

    assert (unsigned.status_code, wrong.status_code) == (403, 403)
    assert forged_get.status_code in (403, 405)  # GET is only served on the voice webhook, and signed
    assert _alert(client, alert.id)["status"] != "acknowledged"


def test_repeated_and_late_receipts_change_nothing_twice(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against a retried callback escalating twice, or a late "sent" undoing the failure."""
    alert, sms = _delivered_sms(client, fake, new_alert, wait_until)
    with server.app.state.sessions() as session:
        # Back to "sent", as if the delivered receipt had not come yet.
        session.execute(update(NotificationRow).where(NotificationRow.id == sms["id"]).values(status="sent"))
        session.commit()
    before = {row["id"] for row in _notifications(client, alert.id)}
    path = f"/webhooks/twilio/status?n={sms['id']}"
    undelivered = {"MessageSid": sms["provider_id"], "MessageStatus": "undelivered", "ErrorCode": "30003"}

    first = _signed_post(server, path, undelivered)
    escalated = wait_until(
        lambda: {row["id"] for row in _notifications(client, alert.id)} - before,
        timeout_s=3.0,
        message="no escalation",
    )
    repeats = [_signed_post(server, path, undelivered).status_code for _ in range(2)]
    late = _signed_post(server, path, {"MessageSid": sms["provider_id"], "MessageStatus": "sent"})
    server.app.state.scheduler.wake()
    time.sleep(5 * SWEEP_S)  # a second escalation, if any, would be made within a sweep or two

    assert (first.status_code, repeats, late.status_code) == (204, [204, 204], 204)
    [stored] = _notifications(client, alert.id, id=sms["id"])
    assert (stored["status"], stored["error"]) == ("failed", "twilio undelivered (error 30003)")
    # One escalation, however many times the receipt came.
    assert {row["id"] for row in _notifications(client, alert.id)} - before == escalated


def test_receipt_for_another_message_sid_is_ignored(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against a stray receipt (an earlier attempt's message) overwriting the message we track."""
    alert, sms = _delivered_sms(client, fake, new_alert, wait_until)

    response = _signed_post(
        server, f"/webhooks/twilio/status?n={sms['id']}", {"MessageSid": "SM" + "f" * 32, "MessageStatus": "failed"}
    )

    assert response.status_code == 204
    [stored] = _notifications(client, alert.id, id=sms["id"])
    assert (stored["status"], stored["error"]) == ("delivered", None)


def test_chinese_call_is_read_by_a_mandarin_voice(
    server: ServerThread,
    client: httpx.Client,
    fake: FakeTwilio,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards Chinese-speaking contacts: Twilio's default voice cannot say Chinese, the call would be noise."""
    alert = _sos(client, new_alert, RESPONDER)
    wait_until(lambda: fake.messages, timeout_s=3.0, message="no SMS sent")
    body = "平安守护警报: 住户 h0003, 紧急呼叫. 请按1确认接单."
    with server.app.state.sessions() as session:
        row = NotificationRow(
            alert_id=alert.id, to=SECOND, channel="voice", body=body, status="sent", attempts=1,
            created_at=datetime.now(UTC), provider_id="CA" + "1" * 32,
        )  # fmt: skip
        session.add(row)
        session.commit()
        notification_id = row.id
    params = {"CallSid": "CA" + "1" * 32, "CallStatus": "in-progress", "From": FROM, "To": SECOND}

    twiml = _signed_post(server, f"/webhooks/twilio/voice?n={notification_id}", params)

    says = list(ET.fromstring(twiml.text).iter("Say"))
    assert body in [say.text for say in says]
    assert {(say.get("voice"), say.get("language")) for say in says} == {("Polly.Zhiyu", "cmn-CN")}


def test_webhooks_are_refused_when_twilio_is_not_configured(
    start_server: Callable[..., ServerThread],
) -> None:
    """Guards the console default: with no auth token, nothing can post to the Twilio webhooks."""
    console = start_server()

    response = httpx.post(f"{console.url}/webhooks/twilio/sms", data={"From": RESPONDER, "Body": "1"})

    assert response.status_code == 403
    assert "HOMESAFE_TWILIO_AUTH_TOKEN" in response.json()["detail"]


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("1", None),
        ("1 k3f9q2", "K3F9Q2"),
        ("1 K3F 9Q2", "K3F9Q2"),
        ("1 K3F9O2", "K3F902"),  # Crockford: a typed O is the digit 0
        ("\uff11\u3000\uff2b\uff13\uff26\uff19\uff31\uff12", "K3F9Q2"),  # full-width, as Chinese IMEs type it
    ],
)
def test_accept_replies_are_read_leniently(text: str, ref: str | None) -> None:
    """Guards against a real acceptance being misread for case, spacing, full-width input or O/0."""
    assert parse_reply(text) == Reply(ref=ref)


@pytest.mark.parametrize("text", ["", "ok", "2", "11", "1 K3F9Q", "1 K3F9Q22", "yes 1", "1 U00000"])
def test_other_replies_are_not_acceptances(text: str) -> None:
    """Guards against "11", a wrong-length code or chatter accepting an alert."""
    assert parse_reply(text) is None
