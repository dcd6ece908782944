"""The seven kinds of registry record: what makes each unique, what it refers to, whose community it is in."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from gateway.protocol.topics import shard_of
from server.crud.registry import Kind
from server.db.tables import (
    ContactRow,
    DeviceRow,
    HomeRow,
    OnCallShiftRow,
    ResidentRow,
    ResponderRow,
    VisitorAssignmentRow,
)


def _home_shard(values: dict[str, Any], row: Any | None, _now: datetime) -> dict[str, Any]:
    # The gateway worker that reads a home's topics follows from its id, which never changes.
    return {"shard": shard_of(values["id"])} if row is None else {}


def _consent_time(values: dict[str, Any], row: Any | None, now: datetime) -> dict[str, Any]:
    # `consent_at` records when consent was given; withdrawing it clears the time.
    if "consent" not in values:
        return {}
    given, before = bool(values["consent"]), bool(row.consent) if row is not None else False
    if given and not before:
        return {"consent_at": now}
    return {} if given else {"consent_at": None}


HOMES: Final = Kind(name="homes", table=HomeRow, natural_key=("id",), scope="community", computed=_home_shard)
RESIDENTS: Final = Kind(
    name="residents",
    table=ResidentRow,
    natural_key=("home", "name"),
    scope="home",
    references={"home": HomeRow},
    computed=_consent_time,
    stamp_created=True,
)
DEVICES: Final = Kind(
    name="devices",
    table=DeviceRow,
    natural_key=("home", "device_id"),
    scope="home",
    references={"home": HomeRow},
    stamp_created=True,
)
CONTACTS: Final = Kind(
    name="contacts", table=ContactRow, natural_key=("home", "phone"), scope="home", references={"home": HomeRow}
)
RESPONDERS: Final = Kind(name="responders", table=ResponderRow, natural_key=("phone",), scope="community")
SHIFTS: Final = Kind(
    name="shifts",
    table=OnCallShiftRow,
    natural_key=("responder_id", "days", "start", "end", "timezone"),  # the same window twice is one
    scope="responder_id",
    references={"responder_id": ResponderRow},
)
ASSIGNMENTS: Final = Kind(
    name="assignments",
    table=VisitorAssignmentRow,
    natural_key=("home", "responder_id"),
    scope="home",
    references={"home": HomeRow, "responder_id": ResponderRow},
)

KINDS: Final = {kind.name: kind for kind in (HOMES, RESIDENTS, DEVICES, CONTACTS, RESPONDERS, SHIFTS, ASSIGNMENTS)}
