"""The Twilio notifier (server/notifiers/twilio.py): the real `twilio` library against a strict local Twilio.

Only Twilio itself is replaced (tests/fakes/twilio_server.py); the library, its HTTP client, auth and
error parsing are the real ones, pointed at the fake through the library's `http_client` seam.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.base.exceptions import TwilioRestException

from server.config import ServerSettings
from server.notifiers import NotifierError, make_notifier
from server.notifiers.ratelimit import SendLimits, TokenBucket
from server.notifiers.twilio import RebasedHttpClient, TwilioNotifier, sms_segments
from tests.fakes.twilio_server import FakeTwilio

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM = "+15005550006"
TO = "+8613800000001"
PUBLIC = "https://homesafe.test/hs"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, numbers=(FROM,)) as twilio:
        yield twilio


def _notifier(fake: FakeTwilio, *, auth_token: str = AUTH_TOKEN, **kwargs: float) -> TwilioNotifier:
    return TwilioNotifier(
        ACCOUNT_SID, auth_token, FROM, PUBLIC, http_client=RebasedHttpClient(fake.url, timeout=5.0), **kwargs
    )


def test_sms_reaches_twilio_with_sender_body_and_status_callback(fake: FakeTwilio) -> None:
    """Guards against an SMS sent from the wrong number, with the wrong text, or without receipts coming back."""
    sid = _notifier(fake).send(to=TO, channel="sms", body="HomeSafe SOS at home h0003. Ref K3F9Q2", notification_id=7)

    [request] = fake.requests
    assert request.url == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.params == {
        "To": [TO],
        "From": [FROM],
        "Body": ["HomeSafe SOS at home h0003. Ref K3F9Q2"],
        "StatusCallback": [f"{PUBLIC}/webhooks/twilio/status?n=7"],
    }
    assert request.status == 201
    assert sid == fake.messages[0].sid
    assert sid.startswith("SM") and len(sid) == 34


def test_call_fetches_its_twiml_from_our_voice_webhook_and_reports_every_step(fake: FakeTwilio) -> None:
    """Guards against a call that cannot say the alert or take the keypress, or whose no-answer goes unseen."""
    sid = _notifier(fake).send(to=TO, channel="voice", body="HomeSafe SOS", notification_id=8)

    [request] = fake.requests
    assert request.url == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert request.params["To"] == [TO]
    assert request.params["From"] == [FROM]
    assert request.params["Url"] == [f"{PUBLIC}/webhooks/twilio/voice?n=8"]
    assert request.params["Method"] == ["POST"]
    assert request.params["StatusCallback"] == [f"{PUBLIC}/webhooks/twilio/status?n=8"]
    assert sorted(request.params["StatusCallbackEvent"]) == ["answered", "completed", "initiated", "ringing"]
    assert "Twiml" not in request.params
    assert sid == fake.calls[0].sid and sid.startswith("CA")


def test_without_a_notification_id_nothing_asks_for_a_callback(fake: FakeTwilio) -> None:
    """Guards one-off sends (no outbox row): no callback URL pointing at a row that does not exist."""
    notifier = _notifier(fake)
    notifier.send(to=TO, channel="sms", body="test message")
    notifier.send(to=TO, channel="voice", body="test call")

    sms, call = fake.requests
    assert "StatusCallback" not in sms.params
    assert "Url" not in call.params and "StatusCallback" not in call.params
    assert "<Say>test call</Say>" in call.params["Twiml"][0]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limit_and_twilio_failures_are_retryable(fake: FakeTwilio, status: int) -> None:
    """Guards against a 429 or a Twilio outage dropping an SOS message instead of retrying it."""
    fake.fail_next(1, status=status)

    with pytest.raises(NotifierError) as caught:
        _notifier(fake).send(to=TO, channel="sms", body="SOS", notification_id=1)

    assert caught.value.retryable is True
    assert isinstance(caught.value.__cause__, TwilioRestException)  # chained, for the traceback
    assert f"HTTP {status}" in str(caught.value)
    assert fake.messages == []


def test_dropped_connection_is_retryable(fake: FakeTwilio) -> None:
    """Guards against a network failure escaping as a non-NotifierError or being treated as final."""
    fake.drop_next(1)

    with pytest.raises(NotifierError) as caught:
        _notifier(fake).send(to=TO, channel="sms", body="SOS", notification_id=1)

    assert caught.value.retryable is True
    assert "unreachable" in str(caught.value)


def test_twilio_unreachable_is_retryable() -> None:
    """Guards against a refused connection (Twilio or the proxy down) being treated as a refusal."""
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as gone:
        url = gone.url
    notifier = TwilioNotifier(ACCOUNT_SID, AUTH_TOKEN, FROM, PUBLIC, http_client=RebasedHttpClient(url, timeout=2.0))

    with pytest.raises(NotifierError) as caught:
        notifier.send(to=TO, channel="sms", body="SOS", notification_id=1)

    assert caught.value.retryable is True


def test_invalid_number_is_refused_for_good(fake: FakeTwilio) -> None:
    """Guards against retrying forever what Twilio will never send (21211, invalid 'To')."""
    with pytest.raises(NotifierError) as caught:
        _notifier(fake).send(to="13800000001", channel="sms", body="SOS", notification_id=1)

    assert caught.value.retryable is False
    assert "error 21211" in str(caught.value)
    assert [request.status for request in fake.requests] == [400]


def test_wrong_credentials_are_refused_for_good(fake: FakeTwilio) -> None:
    """Guards against a wrong auth token looking like a transient error (it needs a person, not a retry)."""
    with pytest.raises(NotifierError) as caught:
        _notifier(fake, auth_token="not-the-token").send(to=TO, channel="sms", body="SOS", notification_id=1)

    assert caught.value.retryable is False
    assert "HTTP 401, error 20003" in str(caught.value)


@pytest.mark.parametrize(
    ("missing", "variable"),
    [
        ("twilio_account_sid", "HOMESAFE_TWILIO_ACCOUNT_SID"),
        ("twilio_auth_token", "HOMESAFE_TWILIO_AUTH_TOKEN"),
        ("twilio_from", "HOMESAFE_TWILIO_FROM"),
        ("public_base_url", "HOMESAFE_PUBLIC_BASE_URL"),
    ],
)
def test_missing_twilio_setting_is_named_at_start_up(missing: str, variable: str) -> None:
    """Guards against a half-configured Twilio starting and failing only when the first alert comes."""
    values: dict[str, str | None] = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from": FROM,
        "public_base_url": PUBLIC,
        missing: None,
    }
    with pytest.raises(ValueError, match=rf"^{variable} is unset; set it or use --notifier console"):
        make_notifier(ServerSettings(notifier="twilio", **values))


def test_settings_select_twilio_pointed_at_the_api_url(fake: FakeTwilio) -> None:
    """Guards the wiring from HOMESAFE_* settings to a notifier that really talks to the configured API."""
    settings = ServerSettings(
        notifier="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=FROM,
        twilio_api_url=fake.url,
        public_base_url=PUBLIC,
    )

    notifier = make_notifier(settings)
    notifier.send(to=TO, channel="sms", body="SOS", notification_id=3)

    assert notifier.name == "twilio"
    assert [message.to for message in fake.messages] == [TO]
    assert AUTH_TOKEN not in repr(settings)


def test_policy_send_limits_set_the_notifiers_own_pacing(fake: FakeTwilio) -> None:
    """A short code's 30 SMS a second in the policy must not be held to a long code's 1 by the notifier."""
    settings = ServerSettings(
        notifier="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=FROM,
        twilio_api_url=fake.url,
        public_base_url=PUBLIC,
    )
    notifier = make_notifier(settings, limits=SendLimits(sms_per_s=30.0, calls_per_s=5.0, burst=2.0))
    started = time.monotonic()
    for number in range(12):
        notifier.send(to=TO, channel="sms", body=f"SOS {number}", notification_id=number + 1)
    assert time.monotonic() - started < 3.0, "12 SMS at 30/s take well under a second of pacing, not 10 s"
    assert len(fake.messages) == 12


def test_twilio_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch, fake: FakeTwilio) -> None:
    """Guards the documented HOMESAFE_* variables: a deployment sets them and nothing else."""
    for name, value in {
        "NOTIFIER": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM": FROM,
        "TWILIO_API_URL": fake.url,
        "PUBLIC_BASE_URL": PUBLIC,
        "LINK_SECRET": "from-the-environment-0123",
    }.items():
        monkeypatch.setenv(f"HOMESAFE_{name}", value)

    settings = ServerSettings.from_env()
    make_notifier(settings).send(to=TO, channel="sms", body="SOS", notification_id=1)

    assert (settings.notifier, settings.public_base_url, settings.link_secret) == (
        "twilio",
        PUBLIC,
        "from-the-environment-0123",
    )
    assert [message.body for message in fake.messages] == ["SOS"]
    assert "from-the-environment" not in repr(settings) and AUTH_TOKEN not in repr(settings)


def test_twilio_region_and_edge_from_the_environment_still_reach_the_api_url(
    monkeypatch: pytest.MonkeyPatch, fake: FakeTwilio
) -> None:
    """Guards the rebasing: the library reads TWILIO_EDGE/TWILIO_REGION itself and changes the API host."""
    monkeypatch.setenv("TWILIO_REGION", "au1")
    monkeypatch.setenv("TWILIO_EDGE", "sydney")

    _notifier(fake).send(to=TO, channel="sms", body="SOS", notification_id=1)

    assert [message.body for message in fake.messages] == ["SOS"]


def test_sends_are_paced_to_the_sender_rate(fake: FakeTwilio) -> None:
    """Guards against bursting past the number's rate, which Twilio queues out of our sight."""
    notifier = _notifier(fake, messages_per_s=20.0, burst=1.0)

    started = time.monotonic()
    for index in range(3):
        notifier.send(to=TO, channel="sms", body=f"message {index}", notification_id=index + 1)
    elapsed = time.monotonic() - started

    assert elapsed >= 2 / 20.0 * 0.9  # the 2nd and 3rd waited one token (50 ms) each
    assert len(fake.messages) == 3


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    """Guards the pacing arithmetic: a first wave goes at once, then one token per 1/rate seconds."""
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(rate_per_s=1.0, burst=3.0, clock=lambda: now[0], sleep=sleep)

    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(1.0)
    assert bucket.take(2) == pytest.approx(2.0)  # a two-segment SMS costs two
    now[0] += 10.0
    assert bucket.take(5) == pytest.approx(0.0)  # capped at the burst; never waits longer than a full refill
    assert waits == [pytest.approx(1.0), pytest.approx(2.0)]


@pytest.mark.parametrize(
    ("body", "segments"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("{" * 80, 1), ("{" * 81, 2), ("求助" * 35, 1), ("求助" * 36, 2)],
)
def test_sms_segments_follow_gsm7_and_ucs2(body: str, segments: int) -> None:
    """Guards the pacing cost of a message: long and Chinese texts take more than one segment."""
    assert sms_segments(body) == segments


def test_status_callback_url_keeps_the_public_path_prefix(fake: FakeTwilio) -> None:
    """Guards a server behind a proxy under a path: callbacks must go to the public URL, prefix included."""
    _notifier(fake).send(to=TO, channel="sms", body="SOS", notification_id=42)

    callback = urlsplit(fake.requests[0].params["StatusCallback"][0])
    assert (callback.scheme, callback.netloc, callback.path) == ("https", "homesafe.test", "/hs/webhooks/twilio/status")
    assert parse_qs(callback.query) == {"n": ["42"]}
