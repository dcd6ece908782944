"""All routes of the API under `/api`."""

from __future__ import annotations

from fastapi import APIRouter

from server.api.routes import alerts, health, homes, ingest, notifications, responders

api_router = APIRouter(prefix="/api")
for _module in (ingest, alerts, notifications, homes, responders, health):
    api_router.include_router(_module.router)
