"""Alerts and notifications as the API shows them, and the field types other areas share (`Phone`, `Community`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Community = Annotated[str, Field(min_length=1, max_length=64)]
# E.164, what SMS and voice providers take: "+", country code, subscriber number, at most 15 digits.
Phone = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", examples=["+8613800000001"])]


class IngestResult(BaseModel):
    """How many alerts of a batch were new and how many were already stored."""

    accepted: int
    duplicates: int


class AlertPublic(BaseModel):
    """An alert as the API shows it; timestamps are ISO 8601 UTC."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    home: str
    type: str
    severity: str
    status: str
    ref: str
    opened_at: datetime
    raised_at: datetime
    received_at: datetime
    device: str | None
    event_id: str | None
    evidence: dict[str, Any]
    model_version: str | None
    count: int = 1  # alerts of this type from this home merged into this one
    last_event_at: datetime | None = None
    category: str | None = None  # resident category the escalation policy was chosen for
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    ack_channel: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    outcome: str | None = None
    note: str | None = None
    group_id: str | None = None  # the storm group's leader this alert joined (server/escalation/storms.py)


class NotificationPublic(BaseModel):
    """A notification in the outbox and how far it got."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    alert_id: str
    to: str
    channel: str
    body: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    provider_id: str | None
    error: str | None


class Health(BaseModel):
    """Liveness answer."""

    status: Literal["ok"] = "ok"


Actor = Annotated[str, Field(min_length=1, max_length=64, examples=["responder:12", "user:admin"])]


class TimelineEntry(BaseModel):
    """One line of an alert's timeline: a transition (status change, step sent or skipped, merge) or a
    notification (to whom, how, and how far it got)."""

    at: datetime
    entry: Literal["transition", "notification"]
    kind: str  # transition kind (opened, step_sent, acknowledged, ...) or "notification"
    step: int | None = None  # ladder step, from 0
    status: str  # alert status after a transition; notification status for a notification
    recipient: str | None = None  # "responder:12", "contact:3", "operator"
    to: str | None = None  # the number of a notification
    channel: str | None = None
    actor: str | None = None
    detail: str | None = None
    from_status: str | None = None
    notification_id: int | None = None
    sent_at: datetime | None = None


class AlertDetail(AlertPublic):
    """An alert with its escalation ladder and its whole timeline, oldest first."""

    ladder: dict[str, Any] | None = None
    members: list[AlertPublic] = []  # for a storm group's leader: the alerts grouped under it, oldest first
    timeline: list[TimelineEntry] = []


class AckIn(BaseModel):
    """An acknowledgement through the API. The actor is always the token's; `by` only notes on whose behalf
    (e.g. an operator taking a call for a responder), kept in the audit row."""

    model_config = ConfigDict(extra="forbid")

    by: Actor | None = None


class ResolveIn(BaseModel):
    """Closing an alert: how it ended, and a note."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["real_emergency", "resident_fine", "false_alarm", "device_fault", "other"]
    note: Annotated[str, Field(max_length=2000)] | None = None
    by: Actor | None = None
