"""SMS and voice calls through Twilio's REST API, with the `twilio` library.

Everything Twilio-specific on the way out lives here: the callback URLs Twilio is given, the pacing per
sender number, and the translation of Twilio's errors into `NotifierError`. The way back in (status
callbacks, replies, keypresses) is `server/api/routes/webhooks.py`.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from server.notifiers.errors import NotifierError
from server.notifiers.ratelimit import SendLimits, TokenBucket

if TYPE_CHECKING:
    from twilio.http import HttpClient
    from twilio.http.response import Response

    from server.config import ServerSettings

_LOGGER = logging.getLogger(__name__)

STATUS_PATH: Final = "/webhooks/twilio/status"
VOICE_PATH: Final = "/webhooks/twilio/voice"
SMS_PATH: Final = "/webhooks/twilio/sms"

# Twilio releases SMS from a long code at 1 message segment a second per number (toll-free 3, short code
# 30) and queues the rest; an account places 1 outbound call a second by default (calls per second, CPS).
# Pacing ourselves at those rates keeps Twilio's queue empty, so the first message of the next alert is not
# stuck behind the last of this one in a queue we cannot see or reorder.
DEFAULT_MESSAGES_PER_S: Final = 1.0
DEFAULT_CALLS_PER_S: Final = 1.0
DEFAULT_BURST: Final = 3.0  # one alert's first wave to a few responders goes out at once
DEFAULT_TIMEOUT_S: Final = 10.0  # well inside the dispatcher's 60 s lease; requests waits forever by default
CALL_STATUS_EVENTS: Final = ("initiated", "ringing", "answered", "completed")

# 429 is Twilio's "too many requests" (20429, "always safe to retry"); 5xx is Twilio's side failing.
_RETRYABLE_STATUS_MIN: Final = 500
_TOO_MANY_REQUESTS: Final = 429

_GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED: Final = frozenset("^{}\\[~]|€\f")  # two septets each


def sms_segments(body: str) -> int:
    """How many SMS segments `body` takes: GSM-7 160/153 septets, else UCS-2 70/67 code units."""
    if all(char in _GSM7_BASIC or char in _GSM7_EXTENDED for char in body):
        length, single, part = sum(2 if char in _GSM7_EXTENDED else 1 for char in body), 160, 153
    else:
        length, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else math.ceil(length / part)


def callback_url(public_base_url: str, path: str, notification_id: int) -> str:
    """The absolute URL Twilio calls back about one notification, e.g. `https://x.org/webhooks/twilio/status?n=7`."""
    return f"{public_base_url.rstrip('/')}{path}?{urlencode({'n': notification_id})}"


class RebasedHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending what it would send to `https://api.twilio.com` to `api_url` instead.

    This is the library's documented seam (a custom `http_client`, `advanced-examples/custom-http-client.md`):
    auth, form encoding, and the parsing of answers and errors stay the library's.
    """

    def __init__(self, api_url: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__(timeout=timeout)
        self.api_url = api_url.rstrip("/")

    def request(  # noqa: PLR0917 - the library's signature, positional arguments and all
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send the request to `api_url` when it is for Twilio's core API; pass anything else through."""
        parts = urlsplit(url)
        # api.twilio.com, or api.<edge>.<region>.twilio.com when TWILIO_EDGE / TWILIO_REGION are set.
        if parts.hostname is not None and parts.hostname.startswith("api.") and parts.hostname.endswith(".twilio.com"):
            url = self.api_url + urlunsplit(("", "", parts.path, parts.query, parts.fragment))
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


class TwilioNotifier:
    """Sends SMS (Messages API) and voice calls (Calls API) from one Twilio number.

    Args:
        account_sid: the account (`AC...`) the messages are sent from and billed to.
        auth_token: its auth token (Basic auth password; also what Twilio signs webhooks with).
        from_number: the sending Twilio number, E.164.
        public_base_url: where Twilio reaches this server (status callbacks, the call's TwiML).
        http_client: the library's HTTP client; defaults to `TwilioHttpClient` with a timeout.
        messages_per_s: SMS segments a second from `from_number` (long code 1, toll-free 3, short code 30).
        calls_per_s: calls a second (the account's CPS, 1 unless Twilio raised it).
        burst: how many may go at once after a quiet spell, so one alert's first wave is not staggered.
    """

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        public_base_url: str,
        *,
        http_client: HttpClient | None = None,
        messages_per_s: float = DEFAULT_MESSAGES_PER_S,
        calls_per_s: float = DEFAULT_CALLS_PER_S,
        burst: float = DEFAULT_BURST,
    ) -> None:
        self.from_number = from_number
        self.public_base_url = public_base_url.rstrip("/")
        self.client = Client(
            account_sid, auth_token, http_client=http_client or TwilioHttpClient(timeout=DEFAULT_TIMEOUT_S)
        )
        self._sms_bucket = TokenBucket(rate_per_s=messages_per_s, burst=burst)
        self._call_bucket = TokenBucket(rate_per_s=calls_per_s, burst=burst)

    @classmethod
    def from_settings(cls, settings: ServerSettings, *, limits: SendLimits | None = None) -> TwilioNotifier:
        """The notifier the settings describe; a missing setting is named with its environment variable.

        `limits` are the policy's provider rates: the outbox already paces sends at them (most urgent
        first), and this notifier's own pacing must agree, or it would hold back what the outbox released.
        """
        required = {
            "twilio_account_sid": settings.twilio_account_sid,
            "twilio_auth_token": settings.twilio_auth_token,
            "twilio_from": settings.twilio_from,
            "public_base_url": settings.public_base_url,
        }
        for name, value in required.items():
            if not value:
                raise ValueError(
                    f"HOMESAFE_{name.upper()} is unset; set it or use --notifier console (HOMESAFE_NOTIFIER=console)"
                )
        http_client = RebasedHttpClient(settings.twilio_api_url) if settings.twilio_api_url else None
        return cls(
            str(settings.twilio_account_sid),
            str(settings.twilio_auth_token),
            str(settings.twilio_from),
            str(settings.public_base_url),
            http_client=http_client,
            **(
                {}
                if limits is None
                else {"messages_per_s": limits.sms_per_s, "calls_per_s": limits.calls_per_s, "burst": limits.burst}
            ),
        )

    def send(self, *, to: str, channel: str, body: str, notification_id: int | None = None) -> str:
        """Create the message or call and return its sid (`SM...` or `CA...`).

        With `notification_id`, Twilio reports delivery to `/webhooks/twilio/status?n=<id>` and a call
        fetches its TwiML (the alert read out, "press 1 to accept") from `/webhooks/twilio/voice?n=<id>`.
        Without one, an SMS goes without receipts and a call reads `body` once with nothing to press.
        """
        if channel == "sms":
            waited = self._sms_bucket.take(sms_segments(body))
            create: Any = self._create_message
        elif channel == "voice":
            waited = self._call_bucket.take()
            create = self._create_call
        else:
            raise NotifierError(
                f"channel {channel!r} is not one Twilio sends; expected 'sms' or 'voice'", retryable=False
            )
        if waited > 0:
            _LOGGER.debug("paced a Twilio %s by %.2f s to stay within the sender's rate", channel, waited)
        try:
            sid: str = create(to=to, body=body, notification_id=notification_id)
        except TwilioRestException as exc:
            raise _translate(exc, channel) from exc
        except requests.RequestException as exc:
            # Refused, reset, timed out, DNS: Twilio may or may not have the request; the dispatcher retries.
            raise NotifierError(f"Twilio unreachable ({type(exc).__name__}); will retry", retryable=True) from exc
        except TwilioException as exc:
            # Raised by the library itself, e.g. on an answer it cannot parse: treat as transient.
            raise NotifierError(f"Twilio client error: {exc}", retryable=True) from exc
        return sid

    def _create_message(self, *, to: str, body: str, notification_id: int | None) -> str:
        status_callback = (
            callback_url(self.public_base_url, STATUS_PATH, notification_id) if notification_id is not None else None
        )
        kwargs: dict[str, Any] = {"to": to, "from_": self.from_number, "body": body}
        if status_callback is not None:
            kwargs["status_callback"] = status_callback
        message = self.client.messages.create(**kwargs)
        return str(message.sid)

    def _create_call(self, *, to: str, body: str, notification_id: int | None) -> str:
        kwargs: dict[str, Any] = {"to": to, "from_": self.from_number}
        if notification_id is None:
            kwargs["twiml"] = str(VoiceResponse().say(body))
        else:
            kwargs["url"] = callback_url(self.public_base_url, VOICE_PATH, notification_id)
            kwargs["method"] = "POST"
            kwargs["status_callback"] = callback_url(self.public_base_url, STATUS_PATH, notification_id)
            kwargs["status_callback_method"] = "POST"
            kwargs["status_callback_event"] = list(CALL_STATUS_EVENTS)
        call = self.client.calls.create(**kwargs)
        return str(call.sid)


def _translate(exc: TwilioRestException, channel: str) -> NotifierError:
    retryable = exc.status == _TOO_MANY_REQUESTS or exc.status >= _RETRYABLE_STATUS_MIN
    code = f", error {exc.code}" if exc.code else ""
    what = "SMS" if channel == "sms" else "call"
    advice = "will retry" if retryable else "not retried: Twilio would refuse it again"
    # `exc.msg` may quote the phone number: the dispatcher stores this text on the row and does not log it.
    message = f"Twilio refused the {what} (HTTP {exc.status}{code}: {exc.msg}); {advice}"
    return NotifierError(message, retryable=retryable)
