"""`homesafe token create|list|revoke`: tokens made straight in the database, then used over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from homesafe.cli import main
from server.config import ServerSettings
from server.run import ServerThread
from tests.server.conftest import ADMIN_HEADERS


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_cli_admin_token_bootstraps_a_server_without_an_admin_token_and_dies_when_revoked(
    capsys: pytest.CaptureFixture[str],
    db_url: str,
    settings: ServerSettings,
    start_server: Callable[..., ServerThread],
) -> None:
    """Guards the first start of a deployment that keeps no admin token in its environment: the CLI's
    token opens the API, is printed once, never listed, and revoking it closes the API again."""
    code, out, err = _run(capsys, "token", "create", "--role", "admin", "--name", "bootstrap",
                          "--database-url", db_url)
    assert code == 0, err
    token = out.strip()
    assert token.startswith("hs_") and "\n" not in token
    assert "shown this once" in err and token not in err
    server = start_server(replace(settings, admin_token=None))
    admin = {"Authorization": f"Bearer {token}"}

    with httpx.Client(base_url=server.url, timeout=5.0) as http:
        assert http.get("/api/tokens").status_code == 401
        [listed] = http.get("/api/tokens", headers=admin).raise_for_status().json()
        assert (listed["role"], listed["name"], listed["created_by"]) == ("admin", "bootstrap", "cli")

        code, out, _err = _run(capsys, "token", "list", "--database-url", db_url)
        assert code == 0 and token not in out
        assert "active" in out and "bootstrap" in out

        code, out, _err = _run(capsys, "token", "revoke", str(listed["id"]), "--database-url", db_url)
        assert (code, out.strip()) == (0, f"token {listed['id']} revoked")
        assert http.get("/api/tokens", headers=admin).status_code == 401

    code, out, _err = _run(capsys, "token", "list", "--database-url", db_url)
    assert "revoked" in out
    with httpx.Client(base_url=start_server(settings).url, timeout=5.0, headers=ADMIN_HEADERS) as http:
        audit = http.get("/api/audit", params={"entity": "tokens"}).raise_for_status().json()
    assert [(row["actor"], row["action"]) for row in audit] == [("cli", "revoke"), ("cli", "create")]


def test_cli_refuses_a_responder_token_without_a_known_responder(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    """Guards against a responder token acting as nobody: the flag at fault is named, nothing is written."""
    code, out, err = _run(capsys, "token", "create", "--role", "responder", "--name", "r", "--database-url", db_url)
    assert (code, out) == (2, "")
    assert "--responder" in err

    code, out, err = _run(capsys, "token", "create", "--role", "responder", "--name", "r", "--responder", "7",
                          "--database-url", db_url)
    assert (code, out) == (2, "")
    assert "--responder: no responder 7" in err

    code, out, _err = _run(capsys, "token", "list", "--database-url", db_url)
    assert out.count("\n") == 1  # the header only
    assert _run(capsys, "token", "revoke", "5", "--database-url", db_url)[0] == 1
