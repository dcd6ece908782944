"""Serving the dashboard: `/dashboard/` (static files under a strict Content-Security-Policy), `/` sending
people there, and `/dashboard/me` telling the page who its token belongs to."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from server.api.deps import PrincipalDep

STATIC_DIR: Final = Path(__file__).parent / "static"
PREFIX: Final = "/dashboard"

# The page runs only its own script and style and talks only to this server: an injected <script> or
# style attribute does nothing, and no other site can frame it. blob: is where the report plot lands.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",  # revalidate, so a deploy reaches every open screen on its next load
}


class DashboardFiles(StaticFiles):
    """The static files, each answer carrying `SECURITY_HEADERS`."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


class Me(BaseModel):
    """Who a token belongs to, as the page shows it: no name, no phone number."""

    key: str
    role: str
    communities: list[str] | None  # None: every community


router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> RedirectResponse:
    """The bare address opens the dashboard."""
    return RedirectResponse(f"{PREFIX}/", status_code=307)


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon: browsers ask for one on every load, and a 404 would be noise in the console."""
    return Response(status_code=204, headers={"Cache-Control": "max-age=86400"})


@router.get(f"{PREFIX}/me")
def me(principal: PrincipalDep) -> Me:
    """The caller of the token: the sign-in check and the role badge. 401 for a bad token."""
    communities = None if principal.communities is None else sorted(principal.communities)
    return Me(key=principal.key, role=principal.role.value, communities=communities)


def mount_dashboard(app: FastAPI) -> None:
    """Add `/`, `/dashboard/me` and the static `/dashboard/` to `app` (routes first: the mount takes the rest)."""
    app.include_router(router)
    app.mount(PREFIX, DashboardFiles(directory=STATIC_DIR, html=True), name="dashboard")
