"""Devices installed in the homes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/devices", tags=["registry"])
