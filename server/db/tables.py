"""The server's tables: registry (homes, responders), alerts, and notifications as the stored outbox.

Whatever must survive a restart is a row: a pending notification is sent after a crash because it is
still `pending` in `notifications`, not because a timer remembered it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server.db.types import UTCDateTime


class AlertStatus(StrEnum):
    """Where an alert is in its lifecycle."""

    OPEN = "open"
    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class NotificationStatus(StrEnum):
    """Where a notification is in the outbox."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Channel(StrEnum):
    """How a notification reaches a person."""

    SMS = "sms"
    VOICE = "voice"


class Base(DeclarativeBase):
    """Declarative base; every `Mapped[datetime]` is an aware-UTC column."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class HomeRow(Base):
    """A served home and the community whose responders cover it."""

    __tablename__ = "homes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str | None] = mapped_column(String(256))


class ResponderRow(Base):
    """A person on a community's call list (visitor, social worker, on-call responder)."""

    __tablename__ = "responders"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    community: Mapped[str] = mapped_column(String(64), index=True)
    on_duty: Mapped[bool] = mapped_column(default=True)


class AlertRow(Base):
    """An alert from the gateway; its id is the protocol `Alert.id`, so a replay is stored once."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    home: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.OPEN)
    ref: Mapped[str] = mapped_column(String(8), index=True)  # short code people quote in replies and calls
    opened_at: Mapped[datetime] = mapped_column(index=True)  # event time of the cause
    raised_at: Mapped[datetime]  # when the gateway raised it
    received_at: Mapped[datetime]  # when this server stored it
    device: Mapped[str | None] = mapped_column(String(128))
    event_id: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model_version: Mapped[str | None] = mapped_column(String(64))


class NotificationRow(Base):
    """One message to one person about one alert: the stored outbox the dispatcher drains."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    to: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8), default=Channel.SMS)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    # A pending row is due when this is unset or past. A dispatcher claims a row by pushing it ahead by a
    # lease, and a retryable failure pushes it ahead by the backoff: one column, no timers in memory.
    not_before: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
