"""`homesafe demo --duration` runs every part in one process and exits 0 with a true summary."""

import re
import subprocess
import sys

from simulators.mosquitto import free_port


def test_demo_runs_for_its_duration_and_summarises() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "homesafe.cli", "demo", "--duration", "7", "--homes", "4", "--press-every", "2",
         "--port", str(free_port()), "--broker-port", str(free_port())],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "== HomeSafe demo summary ==" in out
    presses = int(re.search(r"button presses: (\d+)", out).group(1))  # type: ignore[union-attr]
    alerts = int(re.search(r"alerts at the server: (\d+)", out).group(1))  # type: ignore[union-attr]
    sent = int(re.search(r"\((\d+) sent\)", out).group(1))  # type: ignore[union-attr]
    assert presses >= 2
    assert alerts == presses, out  # each home presses in turn, so every press is a fresh alert
    assert sent == 2 * alerts, "each SOS reaches the on-duty responder by SMS and by voice"
    assert out.count("[outbox] SMS to") == alerts
    assert "Traceback" not in done.stderr
