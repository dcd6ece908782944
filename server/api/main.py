"""All routes of the API under `/api`."""

from __future__ import annotations

from fastapi import APIRouter

from server.api.routes import (
    alerts,
    assignments,
    audit,
    contacts,
    devices,
    health,
    homes,
    imports,
    ingest,
    notifications,
    reports,
    residents,
    responders,
    shifts,
    tokens,
    visits,
)

api_router = APIRouter(prefix="/api")
for _module in (
    ingest,
    alerts,
    notifications,
    homes,
    residents,
    devices,
    contacts,
    responders,
    shifts,
    assignments,
    imports,
    visits,
    reports,
    tokens,
    audit,
    health,
):
    api_router.include_router(_module.router)
