"""The dashboard as HTTP serves it (server/dashboard/): the page under a strict Content-Security-Policy,
its files with the right types, `/` sending people there, and `/dashboard/me` naming the caller's role.
The page's behaviour in a real browser is in test_dashboard_browser.py."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from server.dashboard.routes import STATIC_DIR
from server.run import ServerThread
from tests.server.conftest import ADMIN_HEADERS


@pytest.fixture
def anonymous(server: ServerThread) -> httpx.Client:
    """A client without a token: the page itself must load before anyone signs in."""
    with httpx.Client(base_url=server.url, timeout=5.0) as http:
        yield http


def _csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {name: value for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))}


def test_root_redirects_to_the_dashboard(anonymous: httpx.Client) -> None:
    """Guards the bare address: an operator typing the host name lands on the dashboard."""
    response = anonymous.get("/", follow_redirects=False)
    assert response.status_code in (302, 303, 307, 308)
    assert response.headers["location"].endswith("/dashboard/")
    assert anonymous.get("/", follow_redirects=True).url.path == "/dashboard/"


def test_page_is_served_under_a_strict_content_security_policy(anonymous: httpx.Client) -> None:
    """Guards against script injection: only the page's own script runs, only this server is called,
    and the page cannot be framed; the HTML holds no inline script or style for the policy to allow."""
    response = anonymous.get("/dashboard/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = _csp(response)
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"

    html = response.text
    assert '<script src="app.js" defer></script>' in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, "inline <script> in index.html"
    assert re.search(r"\son[a-z]+\s*=", html) is None, "inline event handler in index.html"
    assert re.search(r"\sstyle\s*=", html) is None, "inline style attribute in index.html"
    assert "<style" not in html
    assert re.search(r"(src|href)=\"(https?:)?//", html) is None, "the page loads something from elsewhere"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("app.js", "javascript"), ("style.css", "text/css"), ("index.html", "text/html")],
)
def test_static_files_have_their_types_and_the_policy(anonymous: httpx.Client, path: str, content_type: str) -> None:
    """Guards nosniff: with it, a script or stylesheet served under the wrong type is refused by the browser."""
    response = anonymous.get(f"/dashboard/{path}")
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert response.content == (STATIC_DIR / path).read_bytes()
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_dashboard_without_slash_and_unknown_files(anonymous: httpx.Client) -> None:
    """Guards the edges of the mount: `/dashboard` reaches the page, a missing file is a plain 404."""
    assert anonymous.get("/dashboard", follow_redirects=True).url.path == "/dashboard/"
    assert anonymous.get("/dashboard/nothing-here.js").status_code == 404
    assert anonymous.get("/dashboard/../server/config.py").status_code == 404
    assert anonymous.get("/favicon.ico").status_code == 204  # no 404 noise in the browser's console


def test_script_keeps_the_token_out_of_urls_storage_and_console() -> None:
    """Guards the page's data rules where a browser test cannot see them all: the token goes to
    sessionStorage only, nothing is written to the console, nothing is fetched from another site."""
    script = (STATIC_DIR / "app.js").read_text()
    assert "localStorage" not in script
    assert "sessionStorage.setItem(TOKEN_KEY" in script
    assert re.search(r"\bconsole\.", script) is None
    assert re.search(r"https?://", script) is None
    assert "eval(" not in script and "new Function" not in script
    assert ".innerHTML" not in script, "text from the API must go in as text, never as markup"


def test_me_names_the_role_and_refuses_a_bad_token(
    anonymous: httpx.Client, make_token: Callable[..., str]
) -> None:
    """Guards sign-in: the page learns the role and scope of a token (never a name), and a wrong token is 401."""
    admin = anonymous.get("/dashboard/me", headers=ADMIN_HEADERS)
    assert admin.status_code == 200
    assert admin.json() == {"key": "admin", "role": "admin", "communities": None}

    created = anonymous.post(
        "/api/responders", json={"name": "Li Wei", "phone": "+8613800000001", "community": "east"},
        headers=ADMIN_HEADERS,
    )
    created.raise_for_status()
    responder_id = created.json()["id"]
    token = make_token("responder", responder_id=responder_id, communities=("west",))
    responder = anonymous.get("/dashboard/me", headers={"Authorization": f"Bearer {token}"})
    assert responder.status_code == 200
    expected = {"key": f"responder:{responder_id}", "role": "responder", "communities": ["east", "west"]}
    assert responder.json() == expected
    assert "Li Wei" not in responder.text and "+86" not in responder.text

    assert anonymous.get("/dashboard/me").status_code == 401
    assert anonymous.get("/dashboard/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
