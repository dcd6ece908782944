"""The pages behind one-time ack links: GET asks, POST accepts.

GET never acknowledges: SMS apps and link scanners fetch links to preview them, and that must not take
an alert on someone's behalf. The pages show nothing about the resident or the home, only the alert's
reference code, which the person holding the link already has.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Final

from fastapi import APIRouter, Path, status
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from server.acklinks import LINK_PATH, AckLinkError, check_token
from server.api.deps import DispatcherDep, SessionDep, SettingsDep
from server.crud.acklinks import redeem
from server.db.tables import AlertRow

router = APIRouter(prefix=LINK_PATH, tags=["ack links"], include_in_schema=False)

Token = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token must not leak to anything the page links to
    "X-Robots-Tag": "noindex",
}
_TITLES: Final = {
    status.HTTP_403_FORBIDDEN: "Link not valid",
    status.HTTP_404_NOT_FOUND: "Alert not found",
    status.HTTP_409_CONFLICT: "Already taken",
    status.HTTP_410_GONE: "Link no longer valid",
}


def _page(title: str, body: str, *, status_code: int = status.HTTP_200_OK) -> HTMLResponse:
    html = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>HomeSafe: {escape(title)}</title></head>"
        f'<body style="font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em">'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def _error_page(exc: AckLinkError) -> HTMLResponse:
    title = _TITLES.get(exc.status_code, "Link not valid")
    return _page(title, f"<p>{escape(str(exc).capitalize())}.</p>", status_code=exc.status_code)


@router.get("/{token}", response_class=HTMLResponse)
def confirm_page(token: Token, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """Ask the holder to confirm; nothing changes."""
    try:
        notification = check_token(session=session, secret=str(settings.link_secret), token=token)
    except AckLinkError as exc:
        return _error_page(exc)
    ref = session.scalar(select(AlertRow.ref).where(AlertRow.id == notification.alert_id)) or ""
    # No action attribute: the form posts back to the URL the browser used, whatever proxy is in front.
    return _page(
        f"Accept alert {ref}?",
        "<p>Accepting tells the service centre and the others on call that you are going.</p>"
        '<form method="post"><button type="submit" style="font-size:1.4em;padding:.5em 2em">'
        "Accept, I am going</button></form>",
    )


@router.post("/{token}", response_class=HTMLResponse)
def accept(token: Token, session: SessionDep, settings: SettingsDep, dispatcher: DispatcherDep) -> HTMLResponse:
    """Acknowledge the alert (channel "link") and spend the link."""
    try:
        alert = redeem(session=session, secret=str(settings.link_secret), token=token)
    except AckLinkError as exc:
        return _error_page(exc)
    dispatcher.wake()  # an acknowledgement may have settled or cancelled pending notifications
    return _page(f"Alert {alert.ref} accepted", "<p>Thank you. Please go now.</p>")
