"""The registry as the API takes and shows it: homes, residents, devices, contacts, responders, shifts,
visitor assignments, and the result of a CSV import.

`*In` models create a record (the CSV import validates every row with the same models), `*Patch`
models change some of its fields (a field left out is kept; `null` clears it where it may be empty),
`*Public` models are what is returned. Unknown fields are refused, so a misspelt `categroy` is a 422
naming it rather than silently ignored. Device credentials are write-only: no model returns them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from gateway.protocol import valid_home_id
from server.schemas.alerts import Community, Phone

# The device types the edge adapters read (`edge.adapters.ADAPTERS`): a registered device is one an
# edge agent can be configured with. The server does not import the edge code; a test keeps them equal.
DEVICE_TYPES: Final = ("button", "motion", "contact", "smoke", "gas", "water", "radar", "wearable", "bed_mat")
DeviceType = Literal["button", "motion", "contact", "smoke", "gas", "water", "radar", "wearable", "bed_mat"]
# `server.escalation.policy.CATEGORIES`, in its order of precedence (a test keeps them equal).
Category = Literal["safety_net", "disabled_or_dementia", "special_difficulty", "other"]

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_LANGUAGE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


def _home_id(value: str) -> str:
    # The same rule the topics use, from the protocol, so a registered home can always publish.
    if not valid_home_id(value):
        raise ValueError("home id must be 1-64 printable characters without spaces, '/', '+' or '#'")
    return value


def _hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"expected a local time HH:MM from 00:00 to 23:59, got {value!r}")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"expected an IANA time zone like Asia/Shanghai, got {value!r}") from None
    return value


def _weekdays(value: list[int]) -> list[int]:
    return sorted(set(value))


HomeId = Annotated[str, AfterValidator(_home_id)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Language = Annotated[str, Field(pattern=_LANGUAGE, max_length=16, examples=["zh-CN", "en"])]
Age = Annotated[int, Field(ge=0, le=130)]
DeviceId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Credentials = Annotated[SecretStr, Field(min_length=1, max_length=256)]
LocalTime = Annotated[str, AfterValidator(_hhmm), Field(examples=["08:00", "22:30"])]
TimeZoneName = Annotated[str, AfterValidator(_timezone), Field(examples=["Asia/Shanghai"])]
Weekdays = Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(min_length=1, max_length=7),
                     AfterValidator(_weekdays)]
RecordId = Annotated[int, Field(ge=1)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Patch(BaseModel):
    """A partial update; `null` is refused for the fields named in `not_null` (they cannot be empty)."""

    model_config = ConfigDict(extra="forbid")
    not_null: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


# --- homes -----------------------------------------------------------------------------------------


class HomeIn(_In):
    """A home to register; posting an existing id updates its community and address."""

    id: HomeId
    community: Community
    address: Annotated[str, Field(max_length=256)] | None = None


class HomePatch(Patch):
    """New community or address of a home; its id and shard never change."""

    not_null: ClassVar[frozenset[str]] = frozenset({"community"})

    community: Community | None = None
    address: Annotated[str, Field(max_length=256)] | None = None


class HomePublic(BaseModel):
    """A registered home and the gateway shard that reads its topics."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    community: str
    address: str | None
    shard: int | None = None


# --- residents ---------------------------------------------------------------------------------------


class ResidentIn(_In):
    """A resident of a registered home; the category picks the home's escalation rule."""

    home: HomeId
    name: Name
    age: Age | None = None
    category: Category = "other"
    conditions: Annotated[list[Tag], Field(max_length=32)] = []
    consent: bool = False


class ResidentPatch(Patch):
    """Changed fields of a resident."""

    not_null: ClassVar[frozenset[str]] = frozenset({"home", "name", "category", "conditions", "consent"})

    home: HomeId | None = None
    name: Name | None = None
    age: Age | None = None
    category: Category | None = None
    conditions: Annotated[list[Tag], Field(max_length=32)] | None = None
    consent: bool | None = None


class ResidentPublic(BaseModel):
    """A resident; `consent_at` is when consent was last given (`null` while not given)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    home: str
    name: str
    age: int | None
    category: str
    conditions: list[str]
    consent: bool
    consent_at: datetime | None
    created_at: datetime


# --- devices -----------------------------------------------------------------------------------------


class DeviceIn(_In):
    """A device installed in a home, under the id its events carry; `credentials` are write-only."""

    home: HomeId
    device_id: DeviceId
    type: DeviceType
    room: Text64 | None = None
    role: Text64 | None = None
    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] | None = None
    credentials: Credentials | None = None


class DevicePatch(Patch):
    """Changed fields of a device; `credentials: null` removes the stored credentials."""

    not_null: ClassVar[frozenset[str]] = frozenset({"home", "device_id", "type"})

    home: HomeId | None = None
    device_id: DeviceId | None = None
    type: DeviceType | None = None
    room: Text64 | None = None
    role: Text64 | None = None
    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] | None = None
    credentials: Credentials | None = None


class DevicePublic(BaseModel):
    """A device as anyone may see it: whether it has credentials, never what they are."""

    id: int
    home: str
    device_id: str
    type: str
    room: str | None
    role: str | None
    model: str | None
    has_credentials: bool
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> DevicePublic:
        """The public view of a `DeviceRow`."""
        return cls(
            id=row.id,
            home=row.home,
            device_id=row.device_id,
            type=row.type,
            room=row.room,
            role=row.role,
            model=row.model,
            has_credentials=bool(row.credentials),
            created_at=row.created_at,
        )


# --- contacts ----------------------------------------------------------------------------------------


class ContactIn(_In):
    """A family or emergency contact of a home, called in `order` (lowest first)."""

    home: HomeId
    name: Name
    phone: Phone
    relation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = None
    order: Annotated[int, Field(ge=0, le=99)] = 0
    language: Language | None = None


class ContactPatch(Patch):
    """Changed fields of a contact."""

    not_null: ClassVar[frozenset[str]] = frozenset({"home", "name", "phone", "order"})

    home: HomeId | None = None
    name: Name | None = None
    phone: Phone | None = None
    relation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = None
    order: Annotated[int, Field(ge=0, le=99)] | None = None
    language: Language | None = None


class ContactPublic(BaseModel):
    """A family or emergency contact."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    home: str
    name: str
    phone: str
    relation: str | None
    order: int
    language: str | None


# --- responders --------------------------------------------------------------------------------------


class ResponderIn(_In):
    """A responder or visitor on a community's call list; the phone is their key (one person, one number)."""

    name: Name
    phone: Phone
    community: Community
    on_duty: bool = True
    skills: Annotated[list[Tag], Field(max_length=20)] = []
    language: Language | None = None


class ResponderPatch(Patch):
    """Changed fields of a responder; `on_duty: false` takes them off every call list (leave)."""

    not_null: ClassVar[frozenset[str]] = frozenset({"name", "phone", "community", "on_duty", "skills"})

    name: Name | None = None
    phone: Phone | None = None
    community: Community | None = None
    on_duty: bool | None = None
    skills: Annotated[list[Tag], Field(max_length=20)] | None = None
    language: Language | None = None


class ResponderPublic(BaseModel):
    """A responder on a call list."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    phone: str
    community: str
    on_duty: bool
    skills: list[str] = []
    language: str | None = None


# --- on-call shifts ----------------------------------------------------------------------------------


class ShiftIn(_In):
    """A weekly on-call window: it starts at `start` on each of `days` (0 = Monday) and ends at `end`.

    An `end` before `start` runs past midnight into the next day; `start == end` is a whole day.
    `timezone` defaults to the escalation policy's.
    """

    responder_id: RecordId
    days: Weekdays
    start: LocalTime
    end: LocalTime
    timezone: TimeZoneName | None = None


class ShiftPatch(Patch):
    """Changed fields of a shift."""

    not_null: ClassVar[frozenset[str]] = frozenset({"responder_id", "days", "start", "end", "timezone"})

    responder_id: RecordId | None = None
    days: Weekdays | None = None
    start: LocalTime | None = None
    end: LocalTime | None = None
    timezone: TimeZoneName | None = None


class ShiftPublic(BaseModel):
    """An on-call shift."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    responder_id: int
    days: list[int]
    start: str
    end: str
    timezone: str


# --- visitor assignments -----------------------------------------------------------------------------


class AssignmentIn(_In):
    """A responder assigned to visit a home: told first of its non-critical alerts."""

    home: HomeId
    responder_id: RecordId


class AssignmentPatch(Patch):
    """A handover: the same assignment to another visitor or home."""

    not_null: ClassVar[frozenset[str]] = frozenset({"home", "responder_id"})

    home: HomeId | None = None
    responder_id: RecordId | None = None


class AssignmentPublic(BaseModel):
    """A visitor assignment."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    home: str
    responder_id: int


# --- CSV import --------------------------------------------------------------------------------------

ImportKind = Literal["homes", "residents", "devices", "contacts", "responders", "shifts", "assignments"]


class ImportResult(BaseModel):
    """What a CSV import wrote (or, in a dry run, would write)."""

    kind: str
    rows: int
    created: int
    updated: int
    dry_run: bool = False


def values_of(model: BaseModel, *, only_set: bool = False) -> dict[str, Any]:
    """A model's fields as column values (a patch's: those it sets); secrets are unwrapped only here."""
    names = model.model_fields_set if only_set or isinstance(model, Patch) else type(model).model_fields
    values = {name: getattr(model, name) for name in names}
    return {name: value.get_secret_value() if isinstance(value, SecretStr) else value for name, value in values.items()}
