"""Which alerts a caller limited to some communities may see: those of the registered homes there.

An alert belongs to the community of its home (`alerts.home` -> `homes.community`). An alert of a home
not in the registry belongs to no community, so only callers who see every community see it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.crud.alerts import list_alerts
from server.db.tables import AlertRow, HomeRow


def list_alerts_in(
    *, session: Session, limit: int, communities: Collection[str] | None, home: str | None = None
) -> Sequence[AlertRow]:
    """Alerts newest first (as `list_alerts`), only of homes in `communities`; `None` means every alert."""
    if communities is None:
        return list_alerts(session=session, limit=limit, home=home)
    if not communities:
        return []
    in_scope = select(HomeRow.id).where(HomeRow.community.in_(sorted(communities)))
    query = (
        select(AlertRow)
        .where(AlertRow.home.in_(in_scope))
        .order_by(AlertRow.opened_at.desc(), AlertRow.received_at.desc())
        .limit(limit)
    )
    if home is not None:
        query = query.where(AlertRow.home == home)
    return session.scalars(query).all()
