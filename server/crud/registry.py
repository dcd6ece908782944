"""The minimal registry: homes, the communities they belong to, and the communities' responders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.tables import HomeRow, ResponderRow


def upsert_home(*, session: Session, home_id: str, community: str, address: str | None = None) -> HomeRow:
    """Register a home, or move an existing one to `community` and `address`."""
    home = session.get(HomeRow, home_id)
    if home is None:
        home = HomeRow(id=home_id, community=community, address=address)
        session.add(home)
    else:
        home.community = community
        home.address = address
    session.commit()
    return home


def add_responder(*, session: Session, name: str, phone: str, community: str, on_duty: bool = True) -> ResponderRow:
    """Add a responder to a community's call list."""
    responder = ResponderRow(name=name, phone=phone, community=community, on_duty=on_duty)
    session.add(responder)
    session.commit()
    return responder


def list_homes(*, session: Session, limit: int, community: str | None = None) -> Sequence[HomeRow]:
    """Homes by id, optionally of one community."""
    query = select(HomeRow).order_by(HomeRow.id).limit(limit)
    if community is not None:
        query = query.where(HomeRow.community == community)
    return session.scalars(query).all()


def list_responders(*, session: Session, limit: int, community: str | None = None) -> Sequence[ResponderRow]:
    """Responders in the order they were added, optionally of one community."""
    query = select(ResponderRow).order_by(ResponderRow.id).limit(limit)
    if community is not None:
        query = query.where(ResponderRow.community == community)
    return session.scalars(query).all()


def on_duty_phones(*, session: Session, home_id: str) -> list[str] | None:
    """Phones of the on-duty responders covering a home (each once); `None` if the home is not registered."""
    community = session.scalar(select(HomeRow.community).where(HomeRow.id == home_id))
    if community is None:
        return None
    phones = session.scalars(
        select(ResponderRow.phone)
        .where(ResponderRow.community == community, ResponderRow.on_duty.is_(True))
        .order_by(ResponderRow.id)
    ).all()
    return list(dict.fromkeys(phones))
