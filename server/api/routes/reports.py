"""Reports: monthly visit rate per community, overdue visits."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/reports", tags=["reports"])
