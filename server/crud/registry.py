"""The registry's records, one generic set of operations over each kind (homes, residents, devices, ...).

Every kind is described once (`server/registry/kinds.py`): its table, the natural key that makes a
record unique (a home's id, a device's home and device id, a responder's phone...), the fields that
name another record, and how its community is found. The same functions then serve the JSON API and
the CSV import, so both refuse the same duplicates and dangling references the same way.

Nothing here commits: the caller adds its audit row and commits once, so a write and its audit land
together or not at all. The helpers at the end (`upsert_home`, `add_responder`, ...) are the older
committing API that tests and the demo set-up use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, ColumnElement, Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.protocol.topics import shard_of
from server.db.tables import HomeRow, ResponderRow

_LOGGER = logging.getLogger(__name__)

Scope = Literal["community", "home", "responder_id"]


class RegistryError(Exception):
    """A registry write or read that cannot be done.

    `status_code` in HTTP terms: 404 no such record, 409 a duplicate of a record's natural key, 422 a
    field naming a record that does not exist (`field` names it). `message` is safe to show.
    """

    def __init__(self, message: str, *, status_code: int, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.field = field


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of registry record.

    Args:
        name: the plural used in URLs, the audit's `entity` and the CSV import ("residents").
        table: its ORM class.
        natural_key: the fields no two records share; a CSV row with an existing key updates that record.
        references: field -> the table whose primary key it names (a 422 naming the field when missing).
        scope: how a record's community is found: its own `community` column, its `home`'s, or its
            `responder_id`'s. Responders see only the records of their communities.
        computed: fills columns the API does not take (a home's shard, a resident's consent time) from
            the new values and the record before the change (`None` when creating).
        stamp_created: the table has a `created_at` that creating sets.
    """

    name: str
    table: type[Any]
    natural_key: tuple[str, ...]
    scope: Scope
    references: Mapping[str, type[Any]] = field(default_factory=dict)
    computed: Callable[[dict[str, Any], Any | None, datetime], dict[str, Any]] | None = None
    stamp_created: bool = False

    @property
    def label(self) -> str:
        """The singular, for messages ("resident")."""
        return self.name.removesuffix("s")


# --- reading -----------------------------------------------------------------------------------------


def get_record(*, session: Session, kind: Kind, record_id: Any) -> Any:
    """The record with this primary key; `RegistryError` 404 when there is none."""
    row = session.get(kind.table, record_id)
    if row is None:
        raise RegistryError(f"no {kind.label} {record_id!r}", status_code=404)
    return row


def home_community(*, session: Session, home_id: str) -> str | None:
    """The community of a registered home, `None` for a home not in the registry."""
    return session.scalar(select(HomeRow.community).where(HomeRow.id == home_id))


def community_of(*, session: Session, kind: Kind, row: Any) -> str | None:
    """The community a record belongs to, which decides who may see it."""
    if kind.scope == "community":
        return row.community
    if kind.scope == "home":
        return home_community(session=session, home_id=row.home)
    return session.scalar(select(ResponderRow.community).where(ResponderRow.id == row.responder_id))


def _in_communities(kind: Kind, communities: Collection[str]) -> ColumnElement[bool]:
    wanted = sorted(communities)
    table = kind.table
    if kind.scope == "community":
        return table.community.in_(wanted)
    if kind.scope == "home":
        return table.home.in_(select(HomeRow.id).where(HomeRow.community.in_(wanted)))
    return table.responder_id.in_(select(ResponderRow.id).where(ResponderRow.community.in_(wanted)))


def list_records(
    *,
    session: Session,
    kind: Kind,
    limit: int,
    offset: int = 0,
    filters: Mapping[str, Any] | None = None,
    communities: Collection[str] | None = None,
) -> Sequence[Any]:
    """Records in id order, those whose columns equal the non-`None` `filters`, of `communities` if given."""
    table = kind.table
    query: Select[Any] = select(table)
    for name, value in (filters or {}).items():
        if value is not None:
            query = query.where(getattr(table, name) == value)
    if communities is not None:
        query = query.where(_in_communities(kind, communities))
    return session.scalars(query.order_by(table.id).offset(offset).limit(limit)).all()


def find_by_key(*, session: Session, kind: Kind, values: Mapping[str, Any]) -> Any | None:
    """The record whose natural key equals the one in `values`, or `None` (also for a kind without one)."""
    if not kind.natural_key or any(name not in values for name in kind.natural_key):
        return None
    table = kind.table
    scalar_keys = [name for name in kind.natural_key if not isinstance(table.__table__.c[name].type, JSON)]
    json_keys = [name for name in kind.natural_key if name not in scalar_keys]
    query = select(table).where(*(getattr(table, name) == values[name] for name in scalar_keys))
    # JSON columns (a shift's days) are compared here: equality on JSON differs between databases.
    for row in session.scalars(query.order_by(table.id)):
        if all(getattr(row, name) == values[name] for name in json_keys):
            return row
    return None


# --- writing -----------------------------------------------------------------------------------------


def check_references(*, session: Session, kind: Kind, values: Mapping[str, Any]) -> None:
    """`RegistryError` 422 naming the first field in `values` whose referenced record does not exist."""
    for name, target in kind.references.items():
        if name in values and session.get(target, values[name]) is None:
            what = target.__tablename__.removesuffix("s")
            raise RegistryError(f"no {what} {values[name]!r} in the registry", status_code=422, field=name)


def _check_unique(session: Session, kind: Kind, values: Mapping[str, Any], own: Any | None) -> None:
    found = find_by_key(session=session, kind=kind, values=values)
    if found is not None and found is not own:
        names = ", ".join(kind.natural_key)
        raise RegistryError(f"another {kind.label} (id {found.id}) has the same {names}", status_code=409)


def _flush(session: Session, kind: Kind) -> None:
    # A concurrent write of the same key passed our check but hits the database's constraint.
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise RegistryError(f"this {kind.label} conflicts with another record", status_code=409) from None


def create_record(*, session: Session, kind: Kind, values: Mapping[str, Any], now: datetime) -> Any:
    """Add a record (no commit). 422 for a dangling reference, 409 for a taken natural key."""
    values = dict(values)
    check_references(session=session, kind=kind, values=values)
    _check_unique(session, kind, values, None)
    if kind.computed is not None:
        values.update(kind.computed(values, None, now))
    if kind.stamp_created:
        values["created_at"] = now
    row = kind.table(**values)
    session.add(row)
    _flush(session, kind)
    _LOGGER.info("%s:%s created", kind.label, row.id)
    return row


def update_record(*, session: Session, kind: Kind, row: Any, changes: Mapping[str, Any], now: datetime) -> list[str]:
    """Apply `changes` to a record (no commit); returns the names of the fields that changed."""
    changes = {name: value for name, value in changes.items() if getattr(row, name) != value}
    check_references(session=session, kind=kind, values=changes)
    if kind.natural_key and any(name in changes for name in kind.natural_key):
        merged = {name: changes.get(name, getattr(row, name)) for name in kind.natural_key}
        _check_unique(session, kind, merged, row)
    if kind.computed is not None:
        changes.update(
            (name, value) for name, value in kind.computed(changes, row, now).items() if getattr(row, name) != value
        )
    for name, value in changes.items():
        setattr(row, name, value)
    _flush(session, kind)
    if changes:
        _LOGGER.info("%s:%s updated (%s)", kind.label, row.id, ", ".join(sorted(changes)))
    return sorted(changes)


def upsert_record(*, session: Session, kind: Kind, values: Mapping[str, Any], now: datetime) -> tuple[Any, bool]:
    """Create the record, or update the one with the same natural key; returns it and whether it is new."""
    existing = find_by_key(session=session, kind=kind, values=values)
    if existing is None:
        return create_record(session=session, kind=kind, values=values, now=now), True
    update_record(session=session, kind=kind, row=existing, changes=values, now=now)
    return existing, False


def delete_record(*, session: Session, kind: Kind, row: Any) -> None:
    """Delete a record (no commit); the database deletes what hangs off it (ON DELETE CASCADE)."""
    record_id = row.id
    session.delete(row)
    session.flush()
    _LOGGER.info("%s:%s deleted", kind.label, record_id)


# --- the older committing helpers --------------------------------------------------------------------


def upsert_home(*, session: Session, home_id: str, community: str, address: str | None = None) -> HomeRow:
    """Register a home, or move an existing one to `community` and `address`; commits."""
    home = session.get(HomeRow, home_id)
    if home is None:
        home = HomeRow(id=home_id, community=community, address=address, shard=shard_of(home_id))
        session.add(home)
    else:
        home.community = community
        home.address = address
    session.commit()
    return home


def add_responder(*, session: Session, name: str, phone: str, community: str, on_duty: bool = True) -> ResponderRow:
    """Add a responder to a community's call list; commits."""
    responder = ResponderRow(name=name, phone=phone, community=community, on_duty=on_duty)
    session.add(responder)
    session.commit()
    return responder
