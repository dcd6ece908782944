"""The dashboard in a real headless Chromium (tests/browser/chromium.py) against a real server: an
operator signs in, sees an ingested SOS arrive, opens it, acknowledges it and resolves it, and the
server's own API shows each change. Skips without Chromium or Playwright, except under CI."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.protocol import Alert, AlertType, Severity, encode
from server.run import ServerThread
from tests.browser.chromium import LAUNCH_FLAGS, chromium_or_skip
from tests.server.conftest import ADMIN_HEADERS, ADMIN_TOKEN

SCREENSHOT = Path("/tmp/dashboard.png")
SEEN_WITHIN_MS = 5000  # the board polls every 2 s
TOKEN_KEY = "homesafe.token"

pytestmark = pytest.mark.slow


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    """A page in a fresh headless Chromium profile; console lines and page errors are collected on it."""
    binary = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=binary,
            headless=True,
            args=list(LAUNCH_FLAGS),
            viewport={"width": 1920, "height": 1080},
        )
        try:
            tab = context.pages[0] if context.pages else context.new_page()
            tab.set_default_timeout(10_000)
            tab.console_lines = []  # type: ignore[attr-defined]
            tab.page_errors = []  # type: ignore[attr-defined]
            tab.on("console", lambda message: tab.console_lines.append((message.type, message.text)))
            tab.on("pageerror", lambda error: tab.page_errors.append(str(error)))
            yield tab
        finally:
            context.close()


def _ingest(server: ServerThread, *alerts: Alert) -> None:
    response = httpx.post(
        f"{server.url}/api/ingest/alerts", content=encode(list(alerts)), headers=ADMIN_HEADERS, timeout=5.0
    )
    response.raise_for_status()
    assert response.json()["accepted"] == len(alerts)


def _alert(server: ServerThread, alert_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/alerts/{alert_id}", headers=ADMIN_HEADERS, timeout=5.0)
    response.raise_for_status()
    return response.json()


def _sign_in(page: Any, server: ServerThread, token: str = ADMIN_TOKEN) -> None:
    page.goto(f"{server.url}/")
    assert page.url.endswith("/dashboard/")
    page.fill("#token", token)
    page.click("#signin-button")
    page.wait_for_selector("#app:not([hidden])")


def test_operator_sees_acknowledges_and_resolves_an_sos_in_the_browser(
    server: ServerThread,
    page: Any,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards the dashboard path of acknowledgement end to end: the alert reaches the board within seconds
    of ingest and flashes, its timeline opens, Acknowledge and Resolve change the alert on the server, and
    the page keeps the token out of URLs, localStorage and the console."""
    background = [
        new_alert(home="h0101", type=AlertType.INACTIVITY, severity=Severity.HIGH, device="pir_living"),
        new_alert(home="h0102", type=AlertType.BATTERY_LOW, severity=Severity.MAINTENANCE, device="door_front"),
    ]
    _ingest(server, *background)
    _sign_in(page, server)
    assert page.inner_text("#role").lower().startswith("admin")
    for alert in background:
        page.wait_for_selector(f'tr[data-id="{alert.id}"]', timeout=SEEN_WITHIN_MS)

    sos = new_alert(home="h0003", type=AlertType.SOS, severity=Severity.CRITICAL)
    ingested = time.monotonic()
    _ingest(server, sos)
    row = page.wait_for_selector(f'tr[data-id="{sos.id}"]', timeout=SEEN_WITHIN_MS)
    assert time.monotonic() - ingested < SEEN_WITHIN_MS / 1000
    classes = row.get_attribute("class") or ""
    assert "sev-critical" in classes and "flash" in classes, classes
    assert page.title().startswith("(1) critical")
    # Most severe first: the SOS above the inactivity alert above the battery.
    order = page.eval_on_selector_all("#board-rows tr", "rows => rows.map(r => r.dataset.id)")
    assert order == [sos.id, background[0].id, background[1].id]
    assert re.fullmatch(r"\d+ s", page.inner_text(f'tr[data-id="{sos.id}"] td.age'))
    # The clock runs in a worker (app.js again), which background tabs do not throttle to once a minute.
    assert [worker.url for worker in page.workers] == [f"{server.url}/dashboard/app.js"]

    # Open it with the keyboard: the row's ref is a button.
    page.focus(f'tr[data-id="{sos.id}"] button.open')
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail:not([hidden])")
    page.wait_for_selector("#timeline-rows tr")
    assert sos.home in page.inner_text("#detail-title")
    assert "opened" in page.inner_text("#timeline-rows")

    page.click("#ack-button")
    page.wait_for_selector("#detail-message:not([hidden])")
    assert "Acknowledged" in page.inner_text("#detail-message")
    acked = _alert(server, sos.id)
    assert acked["status"] == "acknowledged"
    assert acked["acknowledged_by"] == "admin"
    assert acked["ack_channel"] == "web", "the dashboard's acknowledgement is told apart from the API's"
    page.wait_for_function("() => !document.title.startsWith('(')")
    page.wait_for_selector("#timeline-rows >> text=acknowledged")

    page.select_option("#outcome", "false_alarm")
    page.fill("#note", "pendant pressed while cleaning")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.click("#resolve-button")
    page.wait_for_selector("#detail-message >> text=Resolved")
    resolved = _alert(server, sos.id)
    assert resolved["status"] == "resolved"
    assert resolved["outcome"] == "false_alarm"
    assert resolved["note"] == "pendant pressed while cleaning"
    page.wait_for_selector(f'tr[data-id="{sos.id}"]', state="detached", timeout=SEEN_WITHIN_MS)
    assert page.is_hidden("#actions")

    # The token lives in this tab's sessionStorage only; nothing personal in the URL or the console.
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == ADMIN_TOKEN
    assert page.evaluate("localStorage.length") == 0
    assert ADMIN_TOKEN not in page.url and sos.home not in page.url
    assert [text for kind, text in page.console_lines if kind in ("log", "info", "debug")] == []
    assert [text for _kind, text in page.console_lines if "Content Security Policy" in text] == []
    assert page.page_errors == []


def test_errors_are_shown_plainly_and_a_bad_token_returns_to_sign_in(
    server: ServerThread, page: Any, new_alert: Callable[..., Alert]
) -> None:
    """Guards the failure paths an operator meets: an alert resolved elsewhere refuses Acknowledge with the
    server's reason (409), a resolve without an outcome is stopped in the page, and a token that stops
    working (401) sends the page back to sign-in with nothing of the board left on screen."""
    page.goto(f"{server.url}/dashboard/")
    page.fill("#token", "not-a-token")
    page.click("#signin-button")
    page.wait_for_selector("#signin-error:not([hidden])")
    assert "not accepted" in page.inner_text("#signin-error")

    alert = new_alert(home="h0200", type=AlertType.FALL, severity=Severity.CRITICAL)
    _ingest(server, alert)
    _sign_in(page, server)
    page.click(f'tr[data-id="{alert.id}"] button.open')
    page.wait_for_selector("#detail:not([hidden])")

    page.click("#resolve-button")
    assert "Choose an outcome" in page.inner_text("#detail-error")

    # Someone else resolves it through the API while the page still offers Acknowledge.
    httpx.post(
        f"{server.url}/api/alerts/{alert.id}/resolve", json={"outcome": "resident_fine"}, headers=ADMIN_HEADERS
    ).raise_for_status()
    page.click("#ack-button")
    page.wait_for_selector("#detail-error >> text=already resolved")
    assert "Could not acknowledge" in page.inner_text("#detail-error")

    page.evaluate(f"sessionStorage.setItem('{TOKEN_KEY}', 'revoked-token')")
    page.reload()
    page.wait_for_selector("#signin:not([hidden])")
    assert "not accepted" in page.inner_text("#signin-error")
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    assert page.is_hidden("#app")
    assert page.page_errors == []


def test_reports_tab_renders_or_says_unavailable(server: ServerThread, page: Any) -> None:
    """Guards the reports tab against endpoints still being built: it renders the visit tables when the
    server has them and says "reports unavailable" when it answers 404, never hangs on "Loading"."""
    _sign_in(page, server)
    page.click("#tab-reports")
    page.wait_for_selector("#view-reports:not([hidden])")
    page.wait_for_function("() => document.querySelector('#rates').children.length > 0")
    page.wait_for_function("() => !document.querySelector('#reports-status').textContent.includes('Loading')")
    status = page.inner_text("#reports-status") if page.is_visible("#reports-status") else ""
    if "unavailable" not in status.lower():
        # The server has the reports: the tables render (empty on a fresh database) and the chart, fetched
        # with the bearer token, shows through a blob: URL.
        assert status == "", status
        assert page.inner_text("#rates").strip()
        assert page.inner_text("#overdue").strip()
        page.wait_for_function("() => document.querySelector('#plot').naturalWidth > 0")
        assert page.get_attribute("#plot", "src").startswith("blob:")
    # Arrow keys move between tabs, as a tablist should.
    page.focus("#tab-reports")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.id") == "tab-alerts"
    assert page.is_visible("#view-alerts")
    assert page.page_errors == []
