"""Family and emergency contacts of the homes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/contacts", tags=["registry"])
