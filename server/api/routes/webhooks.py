"""What Twilio calls back: delivery status, inbound SMS replies, and the voice call's TwiML and keypress.

Mounted at `/webhooks/twilio/`, outside `/api`. Every request must carry a valid `X-Twilio-Signature`
for the URL Twilio was given (`public_base_url` + path + query, so a proxy in front changes nothing) and
its form parameters, signed with the account's auth token; anything else is refused with 403 before it
is read further. Twilio-specific vocabulary stops here: receipts go on as `Delivery`, replies as text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from server.api.deps import DispatcherDep, SessionDep, SettingsDep
from server.crud.lifecycle import LifecycleError, acknowledge
from server.db.tables import AlertRow, AlertStatus, Channel, NotificationRow
from server.notifiers.receipts import Delivery, record_delivery
from server.notifiers.replies import ACCEPT_KEY, actor_of, answer_text
from server.notifiers.twilio import VOICE_PATH, callback_url

_LOGGER = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"], include_in_schema=False)

MAX_WEBHOOK_BYTES: Final = 64 * 1024  # Twilio's form posts are a few hundred bytes
GATHER_TIMEOUT_S: Final = 8
XML: Final = "application/xml"

# Twilio's message and call statuses, in our vocabulary. Anything else (receiving, received, read
# receipts of other channels) is acknowledged with 204 and otherwise ignored.
MESSAGE_STATUSES: Final = {
    "accepted": Delivery.QUEUED,
    "scheduled": Delivery.QUEUED,
    "queued": Delivery.QUEUED,
    "sending": Delivery.SENT,
    "sent": Delivery.SENT,
    "delivered": Delivery.DELIVERED,
    "read": Delivery.DELIVERED,
    "undelivered": Delivery.UNDELIVERED,
    "failed": Delivery.FAILED,
    "canceled": Delivery.FAILED,
}
CALL_STATUSES: Final = {
    "queued": Delivery.QUEUED,
    "initiated": Delivery.QUEUED,
    "ringing": Delivery.SENT,
    "in-progress": Delivery.SENT,
    "completed": Delivery.DELIVERED,
    "busy": Delivery.UNDELIVERED,
    "no-answer": Delivery.UNDELIVERED,
    "canceled": Delivery.UNDELIVERED,
    "failed": Delivery.FAILED,
}

SAY_ACCEPTED: Final = "Thank you. You have accepted this alert. Please go now. Goodbye."
SAY_ALREADY: Final = "This alert was already accepted or closed. Thank you. Goodbye."
SAY_GONE: Final = "This HomeSafe alert is no longer available. Goodbye."
SAY_PRESS: Final = "Press 1 to accept this alert."
SAY_NO_KEY: Final = "No key was pressed. We will try someone else. Goodbye."


@dataclass(frozen=True, slots=True)
class _Voice:
    """What a call speaks in: Twilio's `<Say>` voice and language, and our prompts in that language."""

    attributes: dict[str, str]
    accepted: str
    already: str
    gone: str
    press: str
    no_key: str


_ENGLISH: Final = _Voice({}, SAY_ACCEPTED, SAY_ALREADY, SAY_GONE, SAY_PRESS, SAY_NO_KEY)
# Twilio's default voice ("man") speaks no Chinese: a Chinese body needs a Mandarin voice, or it is read
# as noise. Polly.Zhiyu is Twilio's Amazon Polly Mandarin voice (language cmn-CN).
_MANDARIN: Final = _Voice(
    {"voice": "Polly.Zhiyu", "language": "cmn-CN"},
    "谢谢, 您已确认接单, 请立即前往. 再见.",
    "该警报已有人接单或已关闭. 谢谢, 再见.",
    "该警报已不存在. 再见.",
    "请按1确认接单.",
    "没有收到按键, 我们将联系其他人. 再见.",
)
_CJK = re.compile(r"[\u3400-\u9fff]")


def _voice_for(text: str) -> _Voice:
    return _MANDARIN if _CJK.search(text) else _ENGLISH


class _FormParams(dict[str, str]):
    """Form fields for `RequestValidator`: `getlist` gives every value of a repeated field, as Twilio signs them."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._lists: dict[str, list[str]] = {}
        for name, value in pairs:
            self._lists.setdefault(name, []).append(value)
        super().__init__({name: values[-1] for name, values in self._lists.items()})

    def getlist(self, name: str) -> list[str]:
        return self._lists[name]


async def signed_params(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The request's parameters (form for POST, query for GET), once `X-Twilio-Signature` checks out; 403 else."""
    token, public = settings.twilio_auth_token, settings.public_base_url
    if not token or not public:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="Twilio webhooks are off: set HOMESAFE_TWILIO_AUTH_TOKEN and HOMESAFE_PUBLIC_BASE_URL",
        )
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=f"webhook body over {MAX_WEBHOOK_BYTES} bytes")
    form = _FormParams(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True) if body else [])
    query = request.url.query
    # The URL Twilio signed is the one it was given, built on public_base_url, not the Host this request
    # reached after a proxy; the query string is taken as received (re-encoding it could change it).
    url = f"{public.rstrip('/')}{request.url.path}" + (f"?{query}" if query else "")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(token).validate(url, form, signature):
        _LOGGER.warning("refused a %s to %s: missing or wrong X-Twilio-Signature", request.method, request.url.path)
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="missing or invalid X-Twilio-Signature")
    params = dict(parse_qsl(query, keep_blank_values=True)) if request.method == "GET" else {}
    params.update(form)
    return params


SignedParams = Annotated[dict[str, str], Depends(signed_params)]
NotificationId = Annotated[int, Query(alias="n", ge=1, description="the notification the callback is about")]


def _xml(document: object) -> Response:
    return Response(content=str(document), media_type=XML)


@router.post("/status", status_code=status.HTTP_204_NO_CONTENT)
def delivery_status(n: NotificationId, params: SignedParams, session: SessionDep, dispatcher: DispatcherDep) -> None:
    """A message's or call's status changed: record it; undelivered, failed, busy, no answer escalate at once."""
    if "MessageStatus" in params:
        sid, reported, table = params.get("MessageSid"), params["MessageStatus"], MESSAGE_STATUSES
    elif "CallStatus" in params:
        sid, reported, table = params.get("CallSid"), params["CallStatus"], CALL_STATUSES
    else:
        _LOGGER.info("status callback for notification %d without MessageStatus or CallStatus; ignored", n)
        return
    delivery = table.get(reported)
    if delivery is None:
        return
    code = params.get("ErrorCode")
    error = f"twilio {reported}" + (f" (error {code})" if code else "")
    applied = record_delivery(session=session, notification_id=n, provider_id=sid, status=delivery, error=error)
    if applied and delivery in (Delivery.UNDELIVERED, Delivery.FAILED):
        dispatcher.wake()  # the next step's notifications were just created: send them now, not at the next sweep


@router.post("/sms")
def inbound_sms(params: SignedParams, session: SessionDep, dispatcher: DispatcherDep) -> Response:
    """A text to our number: "1" (optionally with the alert's code) accepts, "VISIT h0042 ..." logs a visit;
    the answer is texted back. A retried delivery (same MessageSid) of a check-in logs no second visit."""
    phone, text = params.get("From", ""), params.get("Body", "")
    source_id = params.get("MessageSid") or None
    answer = answer_text(session=session, phone=phone, text=text, channel=Channel.SMS, source_id=source_id)
    dispatcher.wake()  # an acknowledgement may have settled or cancelled pending notifications
    response = MessagingResponse()
    response.message(answer)
    return _xml(response)


@router.api_route("/voice", methods=["GET", "POST"])
def voice(n: NotificationId, params: SignedParams, session: SessionDep, settings: SettingsDep) -> Response:
    """The call's TwiML: the alert read out and "press 1 to accept"; with `Digits=1`, the acknowledgement."""
    notification = session.get(NotificationRow, n)
    response = VoiceResponse()
    if notification is None:
        response.say(SAY_GONE)
        response.hangup()
        return _xml(response)
    speech = _voice_for(notification.body)
    digits = params.get("Digits")
    if digits == ACCEPT_KEY:
        actor = actor_of(notification)
        try:
            alert = acknowledge(session=session, alert_id=notification.alert_id, actor=actor, channel=Channel.VOICE)
        except LifecycleError as exc:
            gone = exc.status_code == status.HTTP_404_NOT_FOUND
            response.say(speech.gone if gone else speech.already, **speech.attributes)
        else:
            session.commit()
            if alert.acknowledged_by == actor:
                _LOGGER.info("alert %s acknowledged by keypress on notification %d", notification.alert_id, n)
                response.say(speech.accepted, **speech.attributes)
            else:
                # Someone else was first; the lifecycle audited this late "1".
                response.say(speech.already, **speech.attributes)
        response.hangup()
        return _xml(response)
    alert = session.get(AlertRow, notification.alert_id)
    if alert is not None and alert.status in (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED):
        # Someone took it while this call was ringing: don't send a second person.
        response.say(speech.already, **speech.attributes)
        response.hangup()
        return _xml(response)
    # Read the alert twice inside the <Gather>, so a key pressed during the message counts; no key at all
    # falls through to the goodbye, the call completes, and the ladder moves on when the step times out.
    action = callback_url(str(settings.public_base_url), VOICE_PATH, n)
    gather = response.gather(num_digits=1, action=action, method="POST", timeout=GATHER_TIMEOUT_S)
    for _ in range(2):
        gather.say(notification.body, **speech.attributes)
        gather.say(speech.press, **speech.attributes)
    response.say(speech.no_key, **speech.attributes)
    return _xml(response)
