"""Who a ladder step reaches: the registry lookups the escalation engine needs, in one place.

A home's category comes from its residents; responders and visitors are reached only while on duty
(`on_duty` set, and inside one of their shifts when they have any, `server/registry/oncall.py`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select

from server.crud.registry import home_community
from server.db.tables import (
    ContactRow,
    OnCallShiftRow,
    ResidentRow,
    ResponderRow,
    VisitorAssignmentRow,
)
from server.escalation.policy import CATEGORIES, DEFAULT_CATEGORY
from server.registry.oncall import Window, on_call

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_LOGGER = logging.getLogger(__name__)

def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person or service a notification goes to.

    `key` names them without personal data ("responder:12", "contact:3", "operator"): it is what the
    notification row, the timeline and an acknowledgement record, never the phone number.
    """

    key: str
    phone: str
    role: str  # responder, visitor, family, operator, maintenance, emergency
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceNumbers:
    """The numbers of the service centre, the maintenance queue and (optionally) the emergency line."""

    operator: str
    maintenance: str | None = None
    emergency: str | None = None


def home_category(*, session: Session, home_id: str) -> str:
    """The resident category of a home, which picks its escalation rule: the most vulnerable of its
    residents' (`CATEGORIES` is in that order), `other` when none is registered."""
    found = set(session.scalars(select(ResidentRow.category).where(ResidentRow.home == home_id).distinct()))
    return next((category for category in CATEGORIES if category in found), DEFAULT_CATEGORY)


def _on_call(session: Session, rows: Sequence[Row[Any]], now: datetime) -> list[Row[Any]]:
    # Of responders with `on_duty` set (id first in each row), those with no shifts or one covering `now`.
    ids = [row[0] for row in rows]
    windows: dict[int, list[Window]] = defaultdict(list)
    if ids:
        for shift in session.scalars(select(OnCallShiftRow).where(OnCallShiftRow.responder_id.in_(ids))):
            windows[shift.responder_id].append(
                Window(days=tuple(shift.days), start=shift.start, end=shift.end, timezone=shift.timezone)
            )
    kept = []
    for row in rows:
        try:
            covered = on_call(windows.get(row[0], ()), now)
        except (ValueError, KeyError):  # a shift written around the API's validation: err towards calling
            _LOGGER.warning("responder:%s has an unreadable shift; counted as on duty", row[0])
            covered = True
        if covered:
            kept.append(row)
    return kept


def on_duty_responders(*, session: Session, home_id: str, now: datetime | None = None) -> list[Recipient]:
    """Responders of the home's community on duty at `now`, in call-list order; none for an unregistered home."""
    community = home_community(session=session, home_id=home_id)
    if community is None:
        return []
    rows = session.execute(
        select(ResponderRow.id, ResponderRow.phone, ResponderRow.language)
        .where(ResponderRow.community == community, ResponderRow.on_duty.is_(True))
        .order_by(ResponderRow.id)
    ).all()
    return [
        Recipient(key=f"responder:{rid}", phone=phone, role="responder", language=language)
        for rid, phone, language in _on_call(session, rows, _now(now))
    ]


def assigned_visitors(*, session: Session, home_id: str, now: datetime | None = None) -> list[Recipient]:
    """Responders assigned to visit the home and on duty at `now`, in assignment order."""
    rows = session.execute(
        select(ResponderRow.id, ResponderRow.phone, ResponderRow.language)
        .join(VisitorAssignmentRow, VisitorAssignmentRow.responder_id == ResponderRow.id)
        .where(VisitorAssignmentRow.home == home_id, ResponderRow.on_duty.is_(True))
        .order_by(VisitorAssignmentRow.id)
    ).all()
    return [
        Recipient(key=f"responder:{rid}", phone=phone, role="visitor", language=language)
        for rid, phone, language in _on_call(session, rows, _now(now))
    ]


def family_contacts(*, session: Session, home_id: str) -> list[Recipient]:
    """The home's family contacts in their order."""
    rows = session.execute(
        select(ContactRow.id, ContactRow.phone, ContactRow.language)
        .where(ContactRow.home == home_id)
        .order_by(ContactRow.order, ContactRow.id)
    ).all()
    return [Recipient(key=f"contact:{cid}", phone=phone, role="family", language=lang) for cid, phone, lang in rows]


def service_recipient(kind: str, numbers: ServiceNumbers) -> Recipient | None:
    """The operator, maintenance queue or emergency line; `None` when that number is not configured."""
    if kind == "operator":
        return Recipient(key="operator", phone=numbers.operator, role="operator")
    if kind == "maintenance":
        return Recipient(key="maintenance", phone=numbers.maintenance or numbers.operator, role="maintenance")
    if kind == "emergency" and numbers.emergency:
        return Recipient(key="emergency", phone=numbers.emergency, role="emergency")
    return None


def recipients_for(
    kind: str,
    *,
    session: Session,
    home_id: str,
    reached: Collection[str],
    numbers: ServiceNumbers,
    now: datetime | None = None,
) -> list[Recipient]:
    """Who a step's `who` entry means for this home at `now`, given the recipient keys already reached."""
    if kind == "on_duty_responder":
        return on_duty_responders(session=session, home_id=home_id, now=now)[:1]
    if kind == "next_responder":
        return [r for r in on_duty_responders(session=session, home_id=home_id, now=now) if r.key not in reached][:1]
    if kind == "visitor":
        return assigned_visitors(session=session, home_id=home_id, now=now)
    if kind == "family":
        return [r for r in family_contacts(session=session, home_id=home_id) if r.key not in reached][:1]
    if kind == "family_all":
        return family_contacts(session=session, home_id=home_id)
    found = service_recipient(kind, numbers)
    return [found] if found is not None else []
