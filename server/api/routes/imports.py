"""Bulk CSV import of the registry for a district roll-out."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/import", tags=["registry"])
