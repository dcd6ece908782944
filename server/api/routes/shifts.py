"""On-call shifts: who is on duty when."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/shifts", tags=["registry"])
