"""Residents of the registered homes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/residents", tags=["registry"])
