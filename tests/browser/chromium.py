"""Finding the machine's Chromium for browser tests, and the check `make test` can run first.

Tests drive the system's Chromium (Debian's `chromium` package) through Playwright's Python client with
`executable_path`: Playwright's own browser download needs a network this project does not assume.
Without Chromium or Playwright a browser test skips with the reason, except under CI (`CI=true`), where
it fails: CI must really run it.

`python -m tests.browser.chromium ensure` installs Debian's package when it can (root with apt-get) and
says what is missing otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final, NoReturn

import pytest

ENV_BINARY: Final = "HOMESAFE_CHROMIUM"  # a Chromium elsewhere, e.g. on a developer's Mac
_CANDIDATES: Final = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Headless, as root in a container, and silent on the network: without the background-networking flags
# Chromium keeps calling Google's hosts, which a closed network refuses many times a second.
LAUNCH_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def find_chromium() -> str | None:
    """The Chromium binary to drive: `$HOMESAFE_CHROMIUM`, else the first on the PATH."""
    configured = os.environ.get(ENV_BINARY)
    if configured:
        return configured if Path(configured).is_file() else None
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _missing(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run; `python -m tests.browser.chromium ensure`)")
    pytest.skip(reason)


def chromium_or_skip() -> str:
    """The Chromium binary, with Playwright importable; skips (fails under CI) naming what is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("Playwright's Python client is not installed (pip install playwright; no browser download)")
    binary = find_chromium()
    if binary is None:
        _missing(f"no Chromium found (apt-get install chromium, or set {ENV_BINARY})")
    return binary


def _install_debian_package() -> bool:
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return False
    print("chromium not found; installing Debian's package", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    done = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env)
    return done.returncode == 0 and find_chromium() is not None


def ensure() -> int:
    """Make sure browser tests can run; print which Chromium they will use."""
    binary = find_chromium() or (find_chromium() if _install_debian_package() else None)
    if binary is None:
        print(f"no Chromium for the browser tests: install Debian's `chromium` or set {ENV_BINARY}; "
              "they will be skipped (under CI=true they fail)", file=sys.stderr)
        return 1 if os.environ.get("CI") == "true" else 0
    print(f"chromium for browser tests: {binary}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["ensure"]:
        sys.exit("usage: python -m tests.browser.chromium ensure")
    sys.exit(ensure())
