"""The canonical messages on the wire: events from homes, alerts to the server, home status.

These typed records are the contract between edge, gateway, server and simulators; every part imports
them from here and nobody re-declares a field.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import msgspec

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
HomeId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[^/+#\s]+$")]
DeviceId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Seq = Annotated[int, msgspec.Meta(ge=0)]
EpochSeconds = Annotated[float, msgspec.Meta(gt=0)]


class EventKind(StrEnum):
    """What a canonical event says happened, independent of the device that saw it."""

    SOS = "sos"  # a call button / pendant asked for help
    MOTION = "motion"  # value: occupancy seen (True) or cleared (False)
    DOOR = "door"  # value: True = open (Zigbee2MQTT's `contact: true` means closed; the edge inverts it)
    PRESENCE = "presence"  # mmWave presence in a room
    FALL = "fall"  # a device (radar, wearable) itself reported a fall
    ACCEL = "accel"  # a burst of raw 3-axis acceleration for the fall model
    SMOKE = "smoke"
    GAS = "gas"
    WATER = "water"
    BED = "bed"  # value: in bed
    VITALS = "vitals"  # data: heart_rate, breathing_rate, movement
    DEVICE_HEALTH = "device_health"  # data: battery, battery_low, linkquality, tamper
    AVAILABILITY = "availability"  # value: device online


class Severity(StrEnum):
    """How urgently an alert needs a human; drives the escalation ladder."""

    CRITICAL = "critical"
    HIGH = "high"
    MAINTENANCE = "maintenance"


class AlertType(StrEnum):
    """Why an alert was raised."""

    SOS = "SOS"
    FALL = "FALL"
    SMOKE = "SMOKE"
    GAS = "GAS"
    WATER = "WATER"
    INACTIVITY = "INACTIVITY"
    BED_EXIT_NO_RETURN = "BED_EXIT_NO_RETURN"
    NOT_UP = "NOT_UP"
    VITALS = "VITALS"
    HOME_OFFLINE = "HOME_OFFLINE"
    DEVICE_SILENT = "DEVICE_SILENT"
    BATTERY_LOW = "BATTERY_LOW"
    TAMPER = "TAMPER"


SEVERITY_OF: dict[AlertType, Severity] = {
    AlertType.SOS: Severity.CRITICAL,
    AlertType.FALL: Severity.CRITICAL,
    AlertType.SMOKE: Severity.CRITICAL,
    AlertType.GAS: Severity.CRITICAL,
    AlertType.WATER: Severity.HIGH,
    AlertType.INACTIVITY: Severity.HIGH,
    AlertType.BED_EXIT_NO_RETURN: Severity.HIGH,
    AlertType.NOT_UP: Severity.HIGH,
    AlertType.VITALS: Severity.HIGH,
    AlertType.HOME_OFFLINE: Severity.HIGH,
    AlertType.DEVICE_SILENT: Severity.MAINTENANCE,
    AlertType.BATTERY_LOW: Severity.MAINTENANCE,
    AlertType.TAMPER: Severity.MAINTENANCE,
}


class Event(msgspec.Struct, frozen=True, omit_defaults=True):
    """One thing a device in a home reported, as the edge agent normalised it.

    `id` is unique and set at the source, so QoS 1 redeliveries and spool replays are de-duplicated;
    `seq` counts per device, so gaps are visible; `ts` is the source's epoch seconds (UTC).
    """

    id: Id
    home: HomeId
    device: DeviceId
    kind: EventKind
    ts: EpochSeconds
    seq: Seq
    value: bool | float | None = None
    room: str | None = None
    role: str | None = None
    data: dict[str, Any] = {}


class Alert(msgspec.Struct, frozen=True, omit_defaults=True):
    """A detection the server must bring to a human.

    `id` is derived from its cause, so the same cause raised twice (a gateway restart replaying
    history, say) is the same alert and the server stores it once.
    """

    id: Id
    home: HomeId
    type: AlertType
    severity: Severity
    ts: EpochSeconds  # event time of the cause
    raised_at: EpochSeconds  # wall time the gateway raised it, for end-to-end latency
    device: str | None = None
    event_id: str | None = None
    evidence: dict[str, Any] = {}
    model_version: str | None = None


class HomeStatus(msgspec.Struct, frozen=True, omit_defaults=True):
    """Retained status and heartbeat of a home's edge agent; its last will says `online: false`.

    `heartbeat_s` tells the gateway how soon the next heartbeat is due, so a hub that stops
    sending without a clean last will is noticed too.
    """

    home: HomeId
    online: bool
    ts: EpochSeconds
    agent: str | None = None
    heartbeat_s: float | None = None
    utc_offset_s: int | None = None  # the home's local time offset: routines are learned in local time
    spool_depth: int | None = None
    devices: dict[str, bool] = {}  # device -> available (not reported offline, not silent)
    unconfigured: list[str] = []  # devices heard but missing from the configuration
    payload_errors: int = 0
    dropped: dict[str, int] = {}  # events dropped by the bounded spool, by class


class RejectReason(StrEnum):
    """Why an uplink message was refused; counted per reason by the worker."""

    BAD_TOPIC = "bad_topic"
    WRONG_SHARD = "wrong_shard"
    MALFORMED_JSON = "malformed_json"
    SCHEMA = "schema"
    UNKNOWN_KIND = "unknown_kind"
    HOME_MISMATCH = "home_mismatch"
    ABSURD_TIMESTAMP = "absurd_timestamp"


class Rejected(msgspec.Struct, frozen=True):
    """A message that did not pass validation, with a reason for counters and a detail for logs."""

    reason: RejectReason
    detail: str


class CommandType(StrEnum):
    """What a downlink command asks of a home's hub."""

    ACK = "ack"  # help is coming for an alert: the hub tells the resident (LED, voice prompt)


class Command(msgspec.Struct, frozen=True, omit_defaults=True):
    """A message down a home's `cmd` topic (`downlink_topic(home)`), e.g.
    `{"type":"ack","alert_id":"gw1:h0003:evt-42","ref":"K3F9Q2","by":"responder"}`.

    `by` is a role (responder, family, operator), never a name or a number: the hub may speak it aloud.
    """

    type: CommandType
    alert_id: str | None = None
    ref: str | None = None
    by: str | None = None
