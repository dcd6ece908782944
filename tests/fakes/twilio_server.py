"""A local Twilio: the REST endpoints HomeSafe uses, strictly, and the webhooks Twilio sends back, signed.

It is a real HTTP server on a free port; the real `twilio` library talks to it. What it enforces, from
Twilio's documentation:

- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` and `.../Calls.json`, form-encoded
  (`application/x-www-form-urlencoded`), HTTP Basic auth `AccountSid:AuthToken` (else 401, error 20003);
  the path's account must be the authenticated one (else 404, 20404).
- Messages: `To` (21604), `From` (21603), `Body` (21602) required; `To` E.164 (21211); `From` one of the
  account's numbers (21606); `Body` at most 1600 characters (21617); `StatusCallback` absolute (21609).
- Calls: `To` (21201), `From` (21213), `Url` or `Twiml` (21205) required; `To` E.164 (21211); `From` the
  account's (21210); `StatusCallbackEvent` among initiated/ringing/answered/completed (21626).
- 201 with the Message or Call resource (`sid` `SM...`/`CA...`, `status` `queued`); errors as Twilio's JSON
  `{code, message, more_info, status}`.

And what Twilio does afterwards: message status callbacks (sent, then delivered/undelivered/failed with
`ErrorCode`), the call's life (initiated, ringing, answered: fetch `Url` for TwiML; busy/no-answer/failed),
keypresses to a `<Gather>`'s `action`, and inbound SMS to a number's webhook. Every webhook is
form-encoded and carries `X-Twilio-Signature`, computed here from the documented algorithm (base64
HMAC-SHA1 over the URL followed by each POST parameter name and value, sorted by name, keyed by the
auth token), independently of the library's `RequestValidator` that the server checks it with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import re
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

API_VERSION: Final = "2010-04-01"
E164: Final = re.compile(r"^\+[1-9][0-9]{6,14}$")
CALL_EVENTS: Final = frozenset({"initiated", "ringing", "answered", "completed"})
MAX_BODY_CHARS: Final = 1600
_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/(?P<resource>Messages|Calls)\.json$")


def new_sid(prefix: str) -> str:
    """A Twilio-shaped sid: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """`X-Twilio-Signature` as Twilio documents it, for a POST of `params` to `url`."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment)


@dataclass
class Exchange:
    """One request the fake received or sent, with the answer."""

    method: str
    url: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    status: int
    body: str


@dataclass
class FakeMessage:
    """A message created through the API."""

    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    status: str = "queued"
    created: float = field(default_factory=time.monotonic)  # when the API created it, monotonic seconds


@dataclass
class FakeCall:
    """A call created through the API, with the TwiML documents it fetched."""

    sid: str
    to: str
    from_: str
    url: str | None
    method: str
    twiml: str | None
    status_callback: str | None
    status_callback_method: str
    events: frozenset[str]
    status: str = "queued"
    documents: list[str] = field(default_factory=list)  # TwiML answers, in order
    gather_action: str | None = None  # where a keypress goes, while the call waits for one
    gather_method: str = "POST"
    answered: threading.Event = field(default_factory=threading.Event)


class TwilioError(Exception):
    """An error answer, as Twilio's JSON."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def payload(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


class FakeTwilio:
    """A strict local Twilio on `127.0.0.1:<free port>`; `with FakeTwilio(...) as twilio: twilio.url`.

    Args:
        account_sid: the one account it knows.
        auth_token: that account's token: checked on API requests, signs webhooks.
        numbers: the account's phone numbers (valid `From` values).
        callback_delay_s: pause before each webhook it sends, as Twilio's are asynchronous.
    """

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        numbers: tuple[str, ...] = ("+15005550006",),
        callback_delay_s: float = 0.02,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.numbers = numbers
        self.callback_delay_s = callback_delay_s
        self.requests: list[Exchange] = []  # API requests received
        self.webhooks: list[Exchange] = []  # webhooks sent to the application
        self.messages: list[FakeMessage] = []
        self.calls: list[FakeCall] = []
        self._faults: list[int] = []  # status codes for the next API requests; 0 drops the connection
        self._message_outcomes: dict[str, tuple[str, int]] = {}
        self._invalid_numbers: set[str] = set()
        self._call_outcomes: dict[str, str] = {}
        self._forwards: dict[str, str] = {}
        self._lock = threading.Lock()
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._busy = 0
        self._idle = threading.Condition(self._lock)
        self._http = httpx.Client(timeout=5.0)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    # -- life -----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL to point the client at, e.g. `http://127.0.0.1:54321`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeTwilio:
        """Serve the API and start sending webhooks."""
        self._threads = [
            threading.Thread(target=self._server.serve_forever, args=(0.02,), name="fake-twilio-api", daemon=True),
            threading.Thread(target=self._run_jobs, name="fake-twilio-webhooks", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and sending."""
        self._server.shutdown()
        self._server.server_close()
        self._jobs.put(None)
        for thread in self._threads:
            thread.join(5.0)
        self._http.close()

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- scripting ------------------------------------------------------------------------------------

    def fail_next(self, count: int, *, status: int = 429) -> None:
        """Answer the next `count` API requests with `status` (429 → 20429, 5xx → 20500), creating nothing."""
        with self._lock:
            self._faults.extend([status] * count)

    def drop_next(self, count: int) -> None:
        """Close the connection on the next `count` API requests without answering (a network failure)."""
        with self._lock:
            self._faults.extend([0] * count)

    def invalid_number(self, number: str) -> None:
        """Refuse messages and calls to `number` with 400/21211, as Twilio does for a number it cannot use."""
        self._invalid_numbers.add(number)

    def undeliverable(self, number: str, *, status: str = "undelivered", error_code: int = 30003) -> None:
        """Messages to `number` end `status` (undelivered or failed) with `error_code` (30003: unreachable)."""
        self._message_outcomes[number] = (status, error_code)

    def call_outcome(self, number: str, outcome: str) -> None:
        """Calls to `number` end `busy`, `no-answer` or `failed` instead of being answered."""
        if outcome not in {"busy", "no-answer", "failed"}:
            raise ValueError(f"outcome {outcome!r} unknown; expected busy, no-answer or failed")
        self._call_outcomes[number] = outcome

    def forward(self, public_base_url: str, local_base_url: str) -> None:
        """Deliver webhooks for `public_base_url...` to `local_base_url...`, like a reverse proxy in front.

        The signature is still computed over the public URL, as Twilio computes it over the URL it was given.
        """
        self._forwards[public_base_url.rstrip("/")] = local_base_url.rstrip("/")

    # -- what people do -------------------------------------------------------------------------------

    def inbound_sms(self, *, from_: str, body: str, url: str, to: str | None = None) -> httpx.Response:
        """A person texts `body` to the account's number; Twilio POSTs it to the number's webhook `url`."""
        params = {
            "ToCountry": "US",
            "SmsMessageSid": (sid := new_sid("SM")),
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": to or self.numbers[0],
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }
        return self._post_webhook(url, params)

    def press(self, call_sid: str, digits: str) -> httpx.Response:
        """The callee presses `digits` while the call waits in a `<Gather>`; Twilio posts them to its action."""
        call = self.call(call_sid)
        if not call.answered.wait(5.0):
            raise AssertionError(f"call {call_sid} was never answered; status {call.status}")
        if call.gather_action is None:
            raise AssertionError(f"call {call_sid} is not waiting for digits; its TwiML was {call.documents!r}")
        action, method = call.gather_action, call.gather_method
        params = {**self._call_params(call, "in-progress"), "Digits": digits, "FinishedOnKey": ""}
        response = self._request_webhook(method, action, params)
        self._follow_twiml(call, response.text, action)
        return response

    def hang_up(self, call_sid: str) -> None:
        """The callee hangs up: the call completes and Twilio reports it."""
        call = self.call(call_sid)
        call.gather_action = None
        self._schedule(lambda: self._call_status(call, "completed", "completed", CallDuration="12"))

    # -- reading --------------------------------------------------------------------------------------

    def call(self, sid: str) -> FakeCall:
        """The call with `sid`."""
        return next(call for call in self.calls if call.sid == sid)

    def wait_idle(self, timeout_s: float = 5.0) -> None:
        """Wait until every scheduled webhook was sent."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self._busy or not self._jobs.empty():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"fake Twilio still sending webhooks after {timeout_s} s")
                self._idle.wait(remaining)

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        """The signature Twilio would send for `params` posted to `url`."""
        return twilio_signature(self.auth_token, url, params)

    # -- the API --------------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._answer(self)

            def do_GET(self) -> None:
                fake._answer(self)

        return Handler

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        params = parse_qs(raw, keep_blank_values=True)
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault == 0:
            handler.close_connection = True
            handler.connection.shutdown(2)  # no status line at all: the client sees a dropped connection
            self._record(self.requests, handler, params, 0, "")
            return
        try:
            if fault is not None:
                code = 20429 if fault == 429 else 20500
                raise TwilioError(fault, code, "Too Many Requests" if fault == 429 else "Internal Server Error")
            status, payload = self._route(handler, raw, params)
        except TwilioError as exc:
            status, payload = exc.status, exc.payload()
        body = json.dumps(payload)
        self._record(self.requests, handler, params, status, body)
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(body.encode())))
        if status == 401:
            handler.send_header("WWW-Authenticate", 'Basic realm="Twilio API"')
        handler.end_headers()
        handler.wfile.write(body.encode())

    def _record(
        self,
        into: list[Exchange],
        handler: BaseHTTPRequestHandler,
        params: dict[str, list[str]],
        status: int,
        body: str,
    ) -> None:
        with self._lock:
            into.append(Exchange(handler.command, handler.path, params, dict(handler.headers), status, body))

    def _route(
        self, handler: BaseHTTPRequestHandler, raw: str, params: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any]]:
        self._authenticate(handler.headers.get("Authorization"))
        match = _PATH.match(urlsplit(handler.path).path)
        if match is None or handler.command != "POST":
            raise TwilioError(404, 20404, f"The requested resource {handler.path} was not found")
        if match["account"] != self.account_sid:
            raise TwilioError(404, 20404, f"The requested resource {handler.path} was not found")
        content_type = (handler.headers.get("Content-Type") or "").split(";")[0].strip()
        if raw and content_type != "application/x-www-form-urlencoded":
            raise TwilioError(
                400,
                21604 if match["resource"] == "Messages" else 21201,
                f"Content-Type {content_type!r}: requests must be application/x-www-form-urlencoded",
            )
        single = {name: values[-1] for name, values in params.items()}
        if match["resource"] == "Messages":
            return 201, self._create_message(single)
        return 201, self._create_call(single, params.get("StatusCallbackEvent", []))

    def _authenticate(self, header: str | None) -> None:
        scheme, _, encoded = (header or "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:
            user = password = ""
        if scheme != "Basic" or not (
            hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(password, self.auth_token)
        ):
            raise TwilioError(401, 20003, "Authenticate")

    def _check_number(self, value: str, *, code: int, role: str) -> None:
        if not E164.match(value) or value in self._invalid_numbers:
            raise TwilioError(400, code, f"Invalid '{role}' Phone Number: {value}")

    def _create_message(self, params: dict[str, str]) -> dict[str, Any]:
        to, from_, body = params.get("To", ""), params.get("From", ""), params.get("Body", "")
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not from_:
            raise TwilioError(400, 21603, "A 'From' phone number is required.")
        if not body:
            raise TwilioError(400, 21602, "Message body is required.")
        self._check_number(to, code=21211, role="To")
        if from_ not in self.numbers:
            raise TwilioError(
                400,
                21606,
                f"The From phone number {from_} is not a valid, SMS-capable inbound phone "
                "number or short code for your account.",
            )
        if len(body) > MAX_BODY_CHARS:
            raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        callback = params.get("StatusCallback")
        if callback is not None and not callback.startswith(("http://", "https://")):
            raise TwilioError(400, 21609, f"Invalid StatusCallback url: {callback}")
        message = FakeMessage(new_sid("SM"), to, from_, body, callback)
        with self._lock:
            self.messages.append(message)
        if callback:
            outcome = self._message_outcomes.get(to)
            self._schedule(lambda: self._message_status(message, "sent"))
            if outcome is None:
                self._schedule(lambda: self._message_status(message, "delivered"))
            else:
                self._schedule(lambda: self._message_status(message, outcome[0], ErrorCode=str(outcome[1])))
        now = _rfc2822(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }

    def _create_call(self, params: dict[str, str], events: list[str]) -> dict[str, Any]:
        to, from_ = params.get("To", ""), params.get("From", "")
        url, twiml = params.get("Url"), params.get("Twiml")
        if not to:
            raise TwilioError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise TwilioError(400, 21213, "No 'From' number is specified")
        self._check_number(to, code=21211, role="To")
        if from_ not in self.numbers:
            raise TwilioError(
                400, 21210, f"The source phone number provided, {from_}, is not yet verified for your account."
            )
        if not url and not twiml:
            raise TwilioError(400, 21205, "Either a 'Url', 'Twiml' or 'ApplicationSid' parameter is required")
        for name in ("Url", "StatusCallback"):
            value = params.get(name)
            if value is not None and not value.startswith(("http://", "https://")):
                raise TwilioError(400, 21205, f"{name} is not a valid URL: {value}")
        unknown = set(events) - CALL_EVENTS
        if unknown:
            raise TwilioError(400, 21626, f"Invalid StatusCallbackEvent {sorted(unknown)}")
        call = FakeCall(
            sid=new_sid("CA"),
            to=to,
            from_=from_,
            url=url,
            method=params.get("Method", "POST").upper(),
            twiml=twiml,
            status_callback=params.get("StatusCallback"),
            status_callback_method=params.get("StatusCallbackMethod", "POST").upper(),
            events=frozenset(events) if events else frozenset({"completed"}),
        )
        with self._lock:
            self.calls.append(call)
        self._schedule(lambda: self._progress_call(call))
        now = _rfc2822(datetime.now(UTC))
        return {
            "account_sid": self.account_sid,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": from_,
            "from_formatted": from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": new_sid("PN"),
            "price": None,
            "price_unit": "USD",
            "sid": call.sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {},
            "to": to,
            "to_formatted": to,
            "trunk_sid": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{call.sid}.json",
            "queue_time": "0",
        }

    # -- what Twilio does afterwards -------------------------------------------------------------------

    def _message_status(self, message: FakeMessage, status: str, **extra: str) -> None:
        message.status = status
        assert message.status_callback is not None
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_,
            "To": message.to,
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": status,
            "SmsStatus": status,
            **extra,
        }
        self._post_webhook(message.status_callback, params)

    def _call_params(self, call: FakeCall, status: str) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": "outbound-api",
            "From": call.from_,
            "To": call.to,
        }

    def _call_status(self, call: FakeCall, event: str, status: str, **extra: str) -> None:
        call.status = status
        if call.status_callback is None or event not in call.events:
            return
        params = {**self._call_params(call, status), "CallbackSource": "call-progress-events", **extra}
        self._request_webhook(call.status_callback_method, call.status_callback, params)

    def _progress_call(self, call: FakeCall) -> None:
        outcome = self._call_outcomes.get(call.to)
        self._call_status(call, "initiated", "initiated")
        if outcome == "failed":
            self._call_status(call, "completed", "failed", ErrorCode="32009")
            return
        self._call_status(call, "ringing", "ringing")
        if outcome is not None:
            self._call_status(call, "completed", outcome, CallDuration="0")
            return
        call.status = "in-progress"
        if call.url is not None:
            response = self._request_webhook(call.method, call.url, self._call_params(call, "in-progress"))
            document, base = response.text, call.url
        else:
            document, base = str(call.twiml), ""
        self._call_status(call, "answered", "in-progress")
        self._follow_twiml(call, document, base)
        call.answered.set()

    def _follow_twiml(self, call: FakeCall, document: str, document_url: str) -> None:
        call.documents.append(document)
        root = ET.fromstring(document)
        if root.tag != "Response":
            raise AssertionError(f"TwiML root must be <Response>, got <{root.tag}>: {document}")
        gather = root.find("Gather")
        if gather is None:
            call.gather_action = None
            self._schedule(lambda: self._call_status(call, "completed", "completed", CallDuration="8"))
            return
        # A <Gather> without `action` posts the digits back to the document's own URL.
        call.gather_action = gather.get("action") or document_url
        call.gather_method = (gather.get("method") or "POST").upper()

    # -- sending webhooks -----------------------------------------------------------------------------

    def _schedule(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._busy += 1
        self._jobs.put(job)

    def _run_jobs(self) -> None:
        while (job := self._jobs.get()) is not None:
            time.sleep(self.callback_delay_s)
            try:
                job()
            except Exception as exc:  # a webhook that cannot be delivered is recorded, as Twilio's debugger would
                with self._lock:
                    self.webhooks.append(Exchange("POST", "?", {}, {}, 0, f"{type(exc).__name__}: {exc}"))
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _local(self, url: str) -> str:
        for public, local in self._forwards.items():
            if url == public or url.startswith(public + "/") or url.startswith(public + "?"):
                return local + url[len(public) :]
        return url

    def _post_webhook(self, url: str, params: dict[str, str]) -> httpx.Response:
        return self._request_webhook("POST", url, params)

    def _request_webhook(self, method: str, url: str, params: dict[str, str]) -> httpx.Response:
        headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": secrets.token_hex(16)}
        if method == "GET":
            # A GET carries the parameters in the query string, and the signature covers the full URL only.
            signed_url = url + ("&" if "?" in url else "?") + urlencode(params)
            headers["X-Twilio-Signature"] = twilio_signature(self.auth_token, signed_url, {})
            response = self._http.get(self._local(signed_url), headers=headers)
        else:
            headers["X-Twilio-Signature"] = twilio_signature(self.auth_token, url, params)
            response = self._http.post(self._local(url), data=params, headers=headers)
        with self._lock:
            self.webhooks.append(
                Exchange(method, url, {k: [v] for k, v in params.items()}, headers, response.status_code, response.text)
            )
        return response

    def sent_webhooks(self, path: str) -> Iterator[Exchange]:
        """Webhooks sent to URLs whose path is `path`."""
        with self._lock:
            exchanges = list(self.webhooks)
        return (exchange for exchange in exchanges if urlsplit(exchange.url).path.endswith(path))
