"""API tokens and the audit log as the API takes and shows them.

A token's secret appears in exactly one answer, `TokenCreated`, the one to the request that made it;
every other view of a token is `TokenPublic`, which has neither the token nor its digest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from server.auth import Role
from server.schemas.alerts import Community


class TokenIn(BaseModel):
    """A token to issue.

    `responder_id` is required for (and only allowed on) responder tokens, which act as that responder;
    `communities` adds communities a responder token sees besides the responder's own.
    """

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=128, examples=["operator desk 1", "bench-3"])]
    role: Role
    responder_id: Annotated[int, Field(ge=1)] | None = None
    communities: Annotated[list[Community], Field(max_length=100)] = []
    expires_at: AwareDatetime | None = None


class TokenPublic(BaseModel):
    """A token as listings show it: what it may do and whether it still works, never the token."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    responder_id: int | None
    communities: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    """The answer to issuing a token: the only time `token` is shown. Store it now; it cannot be read back."""

    token: str


class AuditPublic(BaseModel):
    """One audit row: who did which action to which record, and the names (not values) of the fields."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    detail: dict[str, Any]
