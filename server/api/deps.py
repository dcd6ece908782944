"""Typed dependencies of the routes: the per-app settings, database session and dispatcher, and who calls.

Everything comes from `request.app.state`, set by `create_app`, so several apps with different
settings can live in one process. The caller is the `Principal` of the request's bearer token: routes
take `ReaderDep`, `StaffDep`, `OperatorDep` or `AdminDep` and record `principal.key` as the actor, never
a name the request claims for itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Final, cast

from fastapi import Depends, Header, HTTPException, Request, status
from sqlalchemy.orm import Session, sessionmaker

from server.auth import Principal, Role, resolve_token
from server.config import ServerSettings
from server.dispatch import Dispatcher
from server.escalation import EscalationConfig

MAX_INGEST_BODY_BYTES: Final = 8 * 1024 * 1024  # a gateway batch is far smaller; this only stops abuse
INGEST_ROLES: Final = frozenset({Role.ADMIN, Role.INTEGRATOR})  # API tokens that may post alerts like the gateway


def get_settings(request: Request) -> ServerSettings:
    """The settings the app was created with."""
    return cast(ServerSettings, request.app.state.settings)


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request, closed after it."""
    sessions = cast(sessionmaker[Session], request.app.state.sessions)
    with sessions() as session:
        yield session


def get_escalation(request: Request) -> EscalationConfig:
    """The app's escalation policy, service numbers and time scale."""
    return cast(EscalationConfig, request.app.state.escalation)


def get_dispatcher(request: Request) -> Dispatcher:
    """The app's notification dispatcher."""
    return cast(Dispatcher, request.app.state.dispatcher)


async def get_raw_body(request: Request) -> bytes:
    """The request body as bytes, refused with 413 past `MAX_INGEST_BODY_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_INGEST_BODY_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                detail=f"body larger than {MAX_INGEST_BODY_BYTES} bytes; send alerts in smaller batches",
            )
        chunks.append(chunk)
    return b"".join(chunks)


SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]
EscalationDep = Annotated[EscalationConfig, Depends(get_escalation)]
RawBodyDep = Annotated[bytes, Depends(get_raw_body)]


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def get_principal(
    settings: SettingsDep, session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    """The caller named by `Authorization: Bearer <token>`; 401 when it is missing, unknown or revoked."""
    token = _bearer(authorization)
    principal = None
    if token is not None:
        principal = resolve_token(
            session=session, token=token, admin_token=settings.admin_token, now=datetime.now(UTC)
        )
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing, unknown, expired or revoked token; send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only `roles` through (admin always), with 403 naming the role needed."""
    allowed = frozenset(roles) | {Role.ADMIN}

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(role.value for role in allowed))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"role {principal.role.value} may not do this; needs one of: {names}"
            )
        return principal

    return check


def forbid_unless_sees(principal: Principal, community: str | None) -> None:
    """403 unless the caller's scope covers `community` (`None`: a home not in the registry)."""
    if not principal.sees_community(community):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="outside your communities")


def authorize_ingest(
    settings: SettingsDep, session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Let a batch of alerts in: anyone while no ingest token is set; else that token, or an admin's or
    integrator's API token (a test bench posting alerts). 401 otherwise, 403 for other roles.

    Ingest is open while `HOMESAFE_INGEST_TOKEN` is unset because it is the gateway's door, not a
    person's: the gateway authenticates with that shared secret (it holds no API token), and an SOS must
    not be refused because a deployment on a closed network left it unset. Anything reachable from
    outside sets it; the other routes never fall open like this.
    """
    expected = settings.ingest_token
    if expected is None:
        return
    token = _bearer(authorization)
    # compare_digest: the time taken must not tell how much of a guessed token was right.
    if token is not None and hmac.compare_digest(token.encode(), expected.encode()):
        return
    principal = None
    if token is not None:
        principal = resolve_token(session=session, token=token, admin_token=settings.admin_token, now=datetime.now(UTC))
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong ingest token; send 'Authorization: Bearer <HOMESAFE_INGEST_TOKEN>' "
            "(or an admin or integrator API token)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if principal.role not in INGEST_ROLES:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"role {principal.role.value} may not post alerts; needs the ingest token, admin or integrator",
        )


AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]
OperatorDep = Annotated[Principal, Depends(require(Role.OPERATOR))]
StaffDep = Annotated[Principal, Depends(require(Role.OPERATOR, Role.RESPONDER))]  # people who act on alerts
ReaderDep = Annotated[Principal, Depends(require(Role.OPERATOR, Role.RESPONDER, Role.INTEGRATOR))]
