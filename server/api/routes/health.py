"""Liveness, for load balancers and for waiting until a started server answers.

The one route under `/api` without a token: it says nothing but "up", and probes carry no secrets.
"""

from __future__ import annotations

from fastapi import APIRouter

from server.schemas import Health

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
def health() -> Health:
    """Answers while the server is up."""
    return Health()
