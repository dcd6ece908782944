"""The server's tables: registry, alerts, notifications as the stored outbox, visits, auth and audit.

Whatever must survive a restart is a row: a pending notification is sent after a crash because it is
still `pending` in `notifications`, not because a timer remembered it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, MetaData, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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


class Outcome(StrEnum):
    """How a resolved alert ended, for the report on response and false alarms."""

    REAL_EMERGENCY = "real_emergency"
    RESIDENT_FINE = "resident_fine"
    FALSE_ALARM = "false_alarm"
    DEVICE_FAULT = "device_fault"
    OTHER = "other"


class StepState(StrEnum):
    """Where one step of an escalation ladder is."""

    PENDING = "pending"  # waiting for its due time
    SENT = "sent"  # its notifications were created
    SKIPPED = "skipped"  # it had nobody to notify; the next step followed at once
    CANCELLED = "cancelled"  # the alert was acknowledged or resolved first


class Base(DeclarativeBase):
    """Declarative base; every `Mapped[datetime]` is an aware-UTC column."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}
    # Every constraint gets a name, so a migration can drop or alter it (SQLite's batch mode cannot touch
    # an unnamed one), and the names are the same on SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class HomeRow(Base):
    """A served home, the community whose responders cover it, and the gateway shard its topics use."""

    __tablename__ = "homes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str | None] = mapped_column(String(256))
    shard: Mapped[int | None]  # `gateway.protocol.shard_of(id)`: which gateway worker reads this home


class ResidentRow(Base):
    """A person living in a home; their category picks the escalation rule and the visiting duty.

    Name and conditions are personal data: the API returns them to those allowed to see the home, and
    nothing writes them to a log (the audit names the fields that changed, never their values).
    """

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    home: Mapped[str] = mapped_column(ForeignKey("homes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    age: Mapped[int | None]
    category: Mapped[str] = mapped_column(String(32), default="other")  # policy.CATEGORIES
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent: Mapped[bool] = mapped_column(default=False)  # to monitoring and to sharing alerts with contacts
    consent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class DeviceRow(Base):
    """A device installed in a home, under the id its events carry (`Event.device`)."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("home", "device_id", name="uq_devices_home_device"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    home: Mapped[str] = mapped_column(ForeignKey("homes.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))  # button, smoke, gas, water, door, motion, radar, wearable, bed
    room: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(64))  # e.g. "bedroom exit", "bathroom"
    model: Mapped[str | None] = mapped_column(String(128))
    # Pairing key or broker password of the device: written, never returned by the API or logged.
    credentials: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime]


class ResponderRow(Base):
    """A person on a community's call list (visitor, social worker, on-call responder)."""

    __tablename__ = "responders"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    community: Mapped[str] = mapped_column(String(64), index=True)
    on_duty: Mapped[bool] = mapped_column(default=True)  # off = on leave: never called, whatever the shifts
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. first_aid, nursing, locksmith
    language: Mapped[str | None] = mapped_column(String(16))


class OnCallShiftRow(Base):
    """When a responder is on duty: a weekly window in a time zone.

    A responder with no shifts is on duty whenever `on_duty` is set; one with shifts only inside them.
    A window whose end is before its start runs past midnight into the next day.
    """

    __tablename__ = "on_call_shifts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"), index=True)
    days: Mapped[list[int]] = mapped_column(JSON)  # 0 = Monday ... 6 = Sunday: the days a window starts on
    start: Mapped[str] = mapped_column(String(5))  # "HH:MM" local
    end: Mapped[str] = mapped_column(String(5))  # "HH:MM" local; "00:00" with start "00:00" = all day
    timezone: Mapped[str] = mapped_column(String(64))  # IANA, e.g. Asia/Shanghai


class AlertRow(Base):
    """An alert from the gateway; its id is the protocol `Alert.id`, so a replay is stored once."""

    __tablename__ = "alerts"
    # At most one unresolved alert per home and type: a second one is merged into it (`crud/alerts.py`),
    # and this index makes two concurrent ingests of such alerts collide instead of both opening one.
    __table_args__ = (
        Index(
            "uq_alerts_unresolved_home_type",
            "home",
            "type",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
    )

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
    # Lifecycle (server/crud/lifecycle.py); every change of these is also a row in alert_transitions.
    count: Mapped[int] = mapped_column(default=1)  # alerts of this type from this home merged into this one
    last_event_at: Mapped[datetime | None]  # event time of the latest merged alert
    category: Mapped[str | None] = mapped_column(String(32))  # resident category the policy was chosen for
    # The ladder chosen when the alert opened, as plain data: a policy edited later, or a restart, never
    # changes the ladder of an alert already climbing it.
    ladder: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))  # e.g. "responder:12", "contact:3"
    ack_channel: Mapped[str | None] = mapped_column(String(16))  # sms, voice, link, web, api
    ack_published_at: Mapped[datetime | None]  # when the ack went down the home's cmd topic
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    # Storm grouping (server/escalation/storms.py): an alert opened while another of the same home is
    # escalating joins that one's group instead of starting a second ladder; None = it leads its own.
    group_id: Mapped[str | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"), index=True)
    # A leader's members, read by `GET /api/alerts/{id}` (loaded only when asked for).
    members: Mapped[list[AlertRow]] = relationship(viewonly=True, order_by="(AlertRow.opened_at, AlertRow.id)")


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
    step: Mapped[int | None]  # ladder step that created it (escalation_steps.step_index); None outside a ladder
    recipient: Mapped[str | None] = mapped_column(String(64))  # who, not the number: "responder:12", "operator"


class AckTokenRow(Base):
    """A one-time ack link that was used: its second use, or a concurrent one, hits this primary key.

    Links are signed, not stored when sent (`server/acklinks.py`); only spending one writes a row.
    """

    __tablename__ = "ack_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the token, not the token
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime]


class AlertTransitionRow(Base):
    """One change in an alert's life, the audit trail: status changes, steps sent or skipped, merges."""

    __tablename__ = "alert_transitions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))  # opened, step_sent, step_skipped, acknowledged, ...
    from_status: Mapped[str | None] = mapped_column("from", String(16))
    to_status: Mapped[str] = mapped_column("to", String(16))
    actor: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    step: Mapped[int | None]
    detail: Mapped[str | None] = mapped_column(Text)


class EscalationStepRow(Base):
    """One step of an alert's escalation ladder: a persisted timer the scheduler claims when due.

    The step after the last one (`step_index == len(ladder steps)`) is the ladder's end: one operator notice.
    """

    __tablename__ = "escalation_steps"
    __table_args__ = (
        UniqueConstraint("alert_id", "step_index", name="uq_escalation_steps_alert_step"),
        Index("ix_escalation_steps_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    step_index: Mapped[int]
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default=StepState.PENDING)
    attempt: Mapped[int] = mapped_column(default=0)  # times taken up; >1 when quiet hours postponed it
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]  # when it was sent, skipped or cancelled


class AlertMergeRow(Base):
    """A protocol alert merged into an open alert of the same home and type; its id keeps replays out."""

    __tablename__ = "alert_merges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the merged protocol `Alert.id`
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime]


class ContactRow(Base):
    """A family or emergency contact of a home, called in `order` when responders do not answer."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    home: Mapped[str] = mapped_column(ForeignKey("homes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    relation: Mapped[str | None] = mapped_column(String(32))
    order: Mapped[int] = mapped_column(default=0)
    language: Mapped[str | None] = mapped_column(String(16))


class VisitorAssignmentRow(Base):
    """A responder assigned to visit a home: the first one told of its non-critical alerts."""

    __tablename__ = "visitor_assignments"
    __table_args__ = (UniqueConstraint("home", "responder_id", name="uq_visitor_assignments_home_responder"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    home: Mapped[str] = mapped_column(ForeignKey("homes.id", ondelete="CASCADE"), index=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"), index=True)


class VisitRow(Base):
    """A welfare visit to a home, logged by the visitor through the API or an SMS check-in."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_home_at", "home", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    home: Mapped[str] = mapped_column(ForeignKey("homes.id", ondelete="CASCADE"))
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("responders.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime]  # when the visit happened (may be before it was logged)
    notes: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(8))  # api, sms, web
    logged_at: Mapped[datetime]
    logged_by: Mapped[str] = mapped_column(String(64))  # actor key, e.g. "responder:12", "token:3"
    # The provider's id of the inbound SMS that logged it (Twilio MessageSid): a retried delivery hits this.
    source_id: Mapped[str | None] = mapped_column(String(64), unique=True)


class ApiTokenRow(Base):
    """An API token: its role and scope. Only the token's SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))  # what it is for, e.g. "bench-3", "operator desk 1"
    role: Mapped[str] = mapped_column(String(16))  # admin, operator, responder, integrator
    # A responder's token acts as that responder (visits, acks) and sees the communities listed here
    # (empty = the responder's own community).
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"), index=True)
    communities: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditRow(Base):
    """One write through the API: who, when, what to which record. Field names, never personal values."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))  # "admin", "token:3", "responder:12"
    action: Mapped[str] = mapped_column(String(32))  # create, update, delete, import, ack, resolve, ...
    entity: Mapped[str] = mapped_column(String(32))  # homes, residents, alerts, tokens, ...
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # e.g. {"fields": ["phone"]}
