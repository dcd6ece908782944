"""Who a ladder step reaches: the registry lookups the escalation engine needs, in one place.

The registry grows elsewhere (categories, visitors, contacts with their CRUD); these functions are the
only place the engine reads it, so filling them in changes nothing else. A lookup whose table does not
exist yet returns nobody rather than failing the alert: the step is skipped and the ladder goes on.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, select

from server.db.tables import ContactRow, HomeRow, ResponderRow, VisitorAssignmentRow
from server.escalation.policy import CATEGORIES, DEFAULT_CATEGORY

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_LOGGER = logging.getLogger(__name__)


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
    """The resident category of a home, which picks its escalation rule; `other` until the registry has it."""
    # The registry will add `homes.category`; until then (or for an unknown value) a home counts as `other`.
    column = getattr(HomeRow, "category", None)
    if column is None:
        return DEFAULT_CATEGORY
    category = session.scalar(select(column).where(HomeRow.id == home_id))
    return category if category in CATEGORIES else DEFAULT_CATEGORY


_KNOWN_TABLES: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def _has_table(session: Session, name: str) -> bool:
    # Asked once per engine while the table exists: the answer only changes by a migration.
    bind = session.get_bind()
    known = _KNOWN_TABLES.setdefault(bind, set())
    if name in known:
        return True
    if inspect(bind).has_table(name):
        known.add(name)
        return True
    _LOGGER.warning("table %s does not exist yet; its recipients count as none", name)
    return False


def on_duty_responders(*, session: Session, home_id: str) -> list[Recipient]:
    """On-duty responders of the home's community, in call-list order; none for an unregistered home."""
    community = session.scalar(select(HomeRow.community).where(HomeRow.id == home_id))
    if community is None:
        return []
    rows = session.execute(
        select(ResponderRow.id, ResponderRow.phone)
        .where(ResponderRow.community == community, ResponderRow.on_duty.is_(True))
        .order_by(ResponderRow.id)
    ).all()
    return [Recipient(key=f"responder:{rid}", phone=phone, role="responder") for rid, phone in rows]


def assigned_visitors(*, session: Session, home_id: str) -> list[Recipient]:
    """On-duty responders assigned to visit the home, in assignment order."""
    if not _has_table(session, VisitorAssignmentRow.__tablename__):
        return []
    rows = session.execute(
        select(ResponderRow.id, ResponderRow.phone)
        .join(VisitorAssignmentRow, VisitorAssignmentRow.responder_id == ResponderRow.id)
        .where(VisitorAssignmentRow.home == home_id, ResponderRow.on_duty.is_(True))
        .order_by(VisitorAssignmentRow.id)
    ).all()
    return [Recipient(key=f"responder:{rid}", phone=phone, role="visitor") for rid, phone in rows]


def family_contacts(*, session: Session, home_id: str) -> list[Recipient]:
    """The home's family contacts in their order."""
    if not _has_table(session, ContactRow.__tablename__):
        return []
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
    kind: str, *, session: Session, home_id: str, reached: Collection[str], numbers: ServiceNumbers
) -> list[Recipient]:
    """Who a step's `who` entry means for this home, given the recipient keys the ladder already reached."""
    if kind == "on_duty_responder":
        return on_duty_responders(session=session, home_id=home_id)[:1]
    if kind == "next_responder":
        return [r for r in on_duty_responders(session=session, home_id=home_id) if r.key not in reached][:1]
    if kind == "visitor":
        return assigned_visitors(session=session, home_id=home_id)
    if kind == "family":
        return [r for r in family_contacts(session=session, home_id=home_id) if r.key not in reached][:1]
    if kind == "family_all":
        return family_contacts(session=session, home_id=home_id)
    found = service_recipient(kind, numbers)
    return [found] if found is not None else []
