"""Scenarios against the real broker: what a subscriber sees is what the scenario says, on time."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from gateway.protocol import BrokerSettings
from simulators.runner import ScenarioRunner, command_hook, run_scenario
from simulators.scenario import load_scenario, parse_scenario
from tests.harness import wait_until


@pytest.mark.parametrize(("name", "homes"), [("pendant_hold", 2), ("bathroom_fall_night", 1)])
def test_a_scenario_publishes_exactly_its_messages(broker: BrokerSettings, subscribe, topic_root: str,
                                                   name: str, homes: int) -> None:
    """Guards against a runner that drops, reorders across QoS, or rewrites what the home model produced:
    the broker must carry the dry run's Zigbee2MQTT topics and payloads, message for message."""
    scenario = load_scenario(name)
    base = f"{topic_root}/{{home}}"
    expected = ScenarioRunner(scenario, speed=math.inf, base_topic=base, homes=homes, echo=lambda _l: None).messages()
    sub = subscribe(f"{topic_root}/#")
    report = asyncio.run(run_scenario(scenario, broker, speed=math.inf, base_topic=base, homes=homes,
                                      echo=lambda _l: None))
    wait_until(lambda: len(sub.snapshot()) >= len(expected), 10, what=f"{len(expected)} messages")
    got = sub.snapshot()
    assert Counter((t, p) for t, p, _ in got) == Counter((m.topic, m.payload) for m in expected)
    assert report.messages == len(expected)
    for home in [f"h{i:04d}" for i in range(1, homes + 1)]:
        bridge = [json.loads(p) for t, p, _ in got if t == f"{topic_root}/{home}/bridge/devices"]
        assert {e["friendly_name"] for e in bridge[0]} >= {d.name for d in scenario.devices}
        online = {t.split("/")[-2] for t, p, _ in got if t.startswith(f"{topic_root}/{home}/")
                  and t.endswith("/availability") and json.loads(p) == {"state": "online"}}
        assert online == {d.name for d in scenario.devices}
    if name == "pendant_hold":
        presses = [(t, json.loads(p), q) for t, p, q in got if t.endswith("/sos_button") and b"action" in p]
        assert [(p["action"], q) for _, p, q in presses] == [("hold", 1)] * 2 * homes
    else:
        falls = [json.loads(p) for t, p, _ in got if t.endswith("/bathroom_radar")]
        assert any(f["fall_down_status"] == "fall" for f in falls)
        bursts = [json.loads(p)["accel"] for t, p, _ in got if t.endswith("/wearable") and b"accel" in p]
        assert bursts and all(b["fs"] == 50.0 and len(b["x"]) == len(b["z"]) for b in bursts)


def test_the_runner_keeps_to_the_scenario_speed(broker: BrokerSettings, subscribe, topic_root: str) -> None:
    """Guards against a runner that ignores its clock: at 60x a press one simulated minute in arrives
    about one real second after the start, not at once and not a minute later."""
    scenario = parse_scenario({"name": "pace", "start": "2025-01-15T10:00:00+08:00", "speed": 60, "duration": "90s",
                               "routine": "none", "bridge_devices": False,
                               "timeline": [{"at": "1m", "do": "press", "action": "single"}]})
    sub = subscribe(f"{topic_root}/#")
    started = time.monotonic()
    asyncio.run(run_scenario(scenario, broker, base_topic=topic_root, echo=lambda _l: None))
    took = time.monotonic() - started
    wait_until(lambda: any(t.endswith("/sos_button") for t, _, _ in sub.snapshot()), 5, what="the press")
    assert 1.3 <= took <= 5.0, took  # 90 simulated s at 60x: 1.5 s


def test_faults_and_the_uplink_hook_reach_the_bench(broker: BrokerSettings, subscribe, topic_root: str,
                                                    tmp_path: Path) -> None:
    """Guards against faults that exist only in the report: duplicates, malformed payloads, flapping and the
    uplink hook must all be visible to whoever listens (the edge agent, or a bench's script)."""
    scenario = load_scenario("faults")
    sub = subscribe(f"{topic_root}/#")
    log = tmp_path / "uplink.log"
    hook = command_hook(f"sh -c 'echo \"$@\" >> {log}' hook")
    story: list[str] = []
    report = asyncio.run(run_scenario(scenario, broker, speed=math.inf, base_topic=topic_root, on_uplink=hook,
                                      echo=story.append))
    wait_until(lambda: len(sub.snapshot()) >= report.messages, 10, what=f"{report.messages} messages")
    got = sub.snapshot()
    assert report.faults["duplicate"] > 0
    assert any(a[:2] == b[:2] for a, b in itertools.pairwise(got) if not a[0].endswith("availability"))
    malformed = [p for t, p, _ in got if t.endswith("/living_motion") and not _json_object(p)]
    assert len(malformed) == 2  # the two truncated payloads
    flaps = [json.loads(p)["state"] for t, p, _ in got if t.endswith("/front_door/availability")]
    assert flaps.count("offline") == 4 and flaps[-1] == "online"
    assert log.read_text().split("\n")[:2] == ["down h0001 600", "up h0001 0"]
    assert any("uplink down" in line for line in story)
    # last_seen is on; during the skew window the bed mat's own clock runs an hour behind the others'.
    latest, offsets = None, []
    for topic, payload, _ in got:
        fields = json.loads(payload) if _json_object(payload) else {}
        if "last_seen" not in fields:
            continue
        seen = datetime.fromisoformat(fields["last_seen"]).timestamp()
        if topic.endswith("/bed_mat") and latest is not None:
            offsets.append(seen - latest)
        elif not topic.endswith("/wearable"):
            latest = seen
    assert any(-3700 < d < -3500 for d in offsets) and any(abs(d) < 600 for d in offsets), offsets
    assert report.uplink == [(report.uplink[0][0], "h0001", True), (report.uplink[1][0], "h0001", False)]


def _json_object(payload: bytes) -> bool:
    try:
        return isinstance(json.loads(payload), dict)
    except ValueError:
        return False


def test_without_a_hook_an_uplink_drop_says_what_to_do() -> None:
    """Guards against a silent no-op: the simulator cannot cut the edge's uplink, and must say so."""
    story: list[str] = []
    ScenarioRunner(load_scenario("faults"), echo=story.append).messages()
    assert any("UPLINK DROP requested for 600 s" in line and "cannot cut" in line for line in story)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "homesafe.cli", "simulate", *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_simulate_cli_runs_a_scenario(broker: BrokerSettings, subscribe, topic_root: str) -> None:
    """Guards against the CLI wiring: --scenario by name, --speed max, --homes and --base-topic reach the run."""
    sub = subscribe(f"{topic_root}/#")
    done = _cli("--scenario", "pendant_hold", "--speed", "max", "--homes", "2", "--base-topic",
                f"{topic_root}/{{home}}", "--broker", broker.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("sos_button: hold press") == 4
    assert "scenario pendant-press-and-hold: 2 home(s)" in done.stdout
    wait_until(lambda: {t.split("/")[1] for t, _, _ in sub.snapshot()} == {"h0001", "h0002"}, 5, what="both homes")


def test_simulate_cli_reports_bad_input_clearly(tmp_path: Path) -> None:
    """Guards against tracebacks for user mistakes: the message names the field or the flag."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstart: '2025-01-15T02:50:00+08:00'\ntimeline:\n  - {at: 1m, do: jump}\n")
    done = _cli("--scenario", str(bad), "--dry-run")
    assert done.returncode == 1 and "timeline[0].do: expected one of" in done.stderr
    assert "Traceback" not in done.stderr
    done = _cli("--scenario", "pendant_hold", "--rate-per-home", "3")
    assert done.returncode == 1 and "only apply to scale mode" in done.stderr
    done = _cli("--scenario", "pendant_hold", "--dry-run")
    assert done.returncode == 0 and "zigbee2mqtt/sos_button {\"action\":\"hold\"" in done.stdout
    listed = _cli("--list-scenarios")
    assert "bathroom_fall_night" in listed.stdout and "Fall in the bathroom" in listed.stdout
