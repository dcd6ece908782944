"""Welfare visits logged by visitors."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/visits", tags=["visits"])
