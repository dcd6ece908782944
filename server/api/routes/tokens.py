"""API tokens: issued, listed, revoked by admins."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/tokens", tags=["auth"])
