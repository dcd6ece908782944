"""One-time ack links: `{public_base_url}/a/{token}` in an SMS, for places without two-way SMS.

A token is signed, not stored: 4 bytes of notification id, 4 bytes of expiry (Unix seconds) and a 96-bit
HMAC-SHA256 over those and the notification's alert id and recipient, base64url (27 characters). Nothing
is written when a link is made, so any code that composes an SMS can make one; spending a link writes an
`AckTokenRow`, whose primary key makes the link single-use even under concurrent clicks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import struct
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, Protocol

from server.db.tables import AckTokenRow, NotificationRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from server.config import ServerSettings

_LOGGER = logging.getLogger(__name__)

LINK_PATH: Final = "/a"
DEFAULT_TTL: Final = timedelta(hours=24)
ACK_CHANNEL: Final = "link"
_DOMAIN: Final = b"homesafe-ack-link-v1"  # a MAC made for anything else with the same secret never matches
_PAYLOAD: Final = struct.Struct(">II")  # notification id, expiry in Unix seconds
_MAC_BYTES: Final = 12
_TOKEN_BYTES: Final = _PAYLOAD.size + _MAC_BYTES
_TOKEN_CHARS: Final = 27  # base64url of 20 bytes, unpadded


class LinkTarget(Protocol):
    """What a link is bound to: a notification row (or anything with its id, alert and recipient)."""

    id: int
    alert_id: str
    to: str


class AckLinkError(Exception):
    """A link that cannot acknowledge: `status_code` 403 (not ours), 410 (used or expired), 404/409 (alert)."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


def ensure_link_secret(settings: ServerSettings) -> ServerSettings:
    """`settings` with a link secret: its own, or a random one made now (with a warning)."""
    if settings.link_secret is not None:
        return settings
    _LOGGER.warning(
        "HOMESAFE_LINK_SECRET is unset; using a random one, so ack links sent before a restart (or by another "
        "server process) will not work. Set it, e.g. to the output of `openssl rand -base64 32`"
    )
    return replace(settings, link_secret=secrets.token_urlsafe(32))


def _mac(secret: str, payload: bytes, alert_id: str, recipient: str) -> bytes:
    message = b"\0".join((_DOMAIN, payload, alert_id.encode(), recipient.encode()))
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()[:_MAC_BYTES]


def issue_token(*, secret: str, notification_id: int, alert_id: str, recipient: str, expires_at: datetime) -> str:
    """A token for one notification, valid until `expires_at`."""
    payload = _PAYLOAD.pack(notification_id, int(expires_at.timestamp()))
    raw = payload + _mac(secret, payload, alert_id, recipient)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def ack_link_for(
    notification: LinkTarget,
    *,
    settings: ServerSettings,
    now: datetime | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> str:
    """The one-time link for `notification` (which must have its id: flush it first), e.g. `https://x.org/a/AAAAB...`.

    Args:
        settings: the app's settings (`request.app.state.settings`), which `create_app` gives a link secret;
            the link is on `public_base_url`, else on `http://host:port` (enough for a demo on one machine).
        ttl: how long the link works.
    """
    if settings.link_secret is None:
        raise ValueError(
            "settings have no link_secret; use the app's settings, or pass them through ensure_link_secret()"
        )
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    return link_for(notification, secret=settings.link_secret, base_url=base, now=now, ttl=ttl)


def link_for(
    notification: LinkTarget,
    *,
    secret: str,
    base_url: str,
    now: datetime | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> str:
    """`ack_link_for` with the secret and base URL given directly, for code that holds those rather than settings."""
    if notification.id is None:
        raise ValueError("the notification has no id yet; session.flush() it before making its link")
    issued = now if now is not None else datetime.now(UTC)
    token = issue_token(
        secret=secret,
        notification_id=notification.id,
        alert_id=notification.alert_id,
        recipient=notification.to,
        expires_at=issued + ttl,
    )
    return f"{base_url.rstrip('/')}{LINK_PATH}/{token}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_token(*, session: Session, secret: str, token: str, now: datetime | None = None) -> NotificationRow:
    """The notification a valid, unexpired, unused token acknowledges; `AckLinkError` otherwise.

    The signature is checked before anything else, so a forged token learns nothing about expiry or use.
    """
    forged = AckLinkError("this link is not a HomeSafe link, or it was changed", status_code=403)
    if len(token) != _TOKEN_CHARS:
        raise forged
    try:
        raw = base64.urlsafe_b64decode(token + "=")
    except (binascii.Error, ValueError):
        raise forged from None
    if len(raw) != _TOKEN_BYTES:
        raise forged
    payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    notification_id, expires = _PAYLOAD.unpack(payload)
    row = session.get(NotificationRow, notification_id)
    if row is None or not hmac.compare_digest(mac, _mac(secret, payload, row.alert_id, row.to)):
        raise forged
    moment = now if now is not None else datetime.now(UTC)
    if moment.timestamp() > expires:
        raise AckLinkError("this link has expired; reply to the SMS or call the service centre", status_code=410)
    if session.get(AckTokenRow, token_digest(token)) is not None:
        raise AckLinkError("this link was already used", status_code=410)
    return row
