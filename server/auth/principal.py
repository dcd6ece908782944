"""The caller of a request once its token is known: a role, an actor key for the audit, a scope."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Role(StrEnum):
    """What a token may do.

    - admin: everything, including tokens and bulk import.
    - operator: the service centre: every alert and home, the registry, reports, visits of anyone.
    - responder: a responder or visitor: the alerts, homes and visits of their communities only.
    - integrator: a test bench or installer: devices and homes (no residents' data), alerts to check a run.
    """

    ADMIN = "admin"
    OPERATOR = "operator"
    RESPONDER = "responder"
    INTEGRATOR = "integrator"


ALL_ROLES: Final = frozenset(Role)
ADMIN_ACTOR: Final = "admin"  # the actor key of HOMESAFE_ADMIN_TOKEN


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    `key` is what the audit, the alert timeline and acknowledgements record ("admin", "token:3",
    "responder:12"): never a name or a phone number. `communities` is `None` for callers who see every
    community, else the only communities whose homes, alerts and visits they see.
    """

    key: str
    role: Role
    token_id: int | None = None
    responder_id: int | None = None
    communities: frozenset[str] | None = None

    def sees_community(self, community: str | None) -> bool:
        """Whether this caller may see a home of `community` (`None`: an unregistered home, admins only)."""
        if self.communities is None:
            return True
        return community is not None and community in self.communities

    @property
    def scoped(self) -> bool:
        """Whether lists must be filtered to `communities`."""
        return self.communities is not None


ADMIN: Final = Principal(key=ADMIN_ACTOR, role=Role.ADMIN)
