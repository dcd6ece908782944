"""Visitors assigned to homes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/assignments", tags=["registry"])
