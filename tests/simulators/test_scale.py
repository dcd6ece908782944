"""Scale mode against the real broker: thousands of homes from one process, at least the target count."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

from gateway.protocol import BrokerSettings
from simulators.devices import DEFAULT_DEVICES
from simulators.scale import ScaleOptions, message_pool, run_scale
from tests.harness import wait_until


def test_a_short_run_publishes_at_least_the_target_and_shows_progress(broker: BrokerSettings, subscribe,
                                                                      topic_root: str) -> None:
    """Guards against a load generator that falls short of its target while claiming it, or stays silent
    while it runs (STYLE: every long run shows progress)."""
    sub = subscribe(f"{topic_root}/#")
    lines: list[str] = []
    report = run_scale(ScaleOptions(broker, homes=500, rate_per_home=1.0, duration_s=3.0,
                                    base_topic=f"{topic_root}/{{home}}", progress_every_s=1.0), echo=lines.append)
    target = 500 * 1.0 * 3.0
    assert report.sent >= target
    wait_until(lambda: len(sub.snapshot()) >= target, 10, what=f"{target:.0f} messages at the subscriber")
    progress = [line for line in lines if re.search(r"\[\s*\d+\.\d s\] [\d,]+ messages sent; [\d,]+ msg/s", line)]
    assert len(progress) >= 2, lines
    assert "target 500 msg/s" in progress[0]
    assert "msg/s achieved, target 500 msg/s" in lines[-1]
    got = sub.snapshot()
    homes = {t.split("/")[1] for t, _, _ in got}
    devices = {t.split("/")[2] for t, _, _ in got}
    assert len(homes) > 450 and homes <= {f"h{i:04d}" for i in range(1, 501)}
    assert devices <= {d.name for d in DEFAULT_DEVICES} and len(devices) >= 8  # a real mix, not one device
    assert all(isinstance(json.loads(p), dict) for _, p, _ in got)


def test_the_message_mix_comes_from_simulated_days() -> None:
    """Guards against a synthetic mix that no home would produce: the pool is a day of real routine messages,
    bed-mat vitals and PIR reports first, with rare wearable bursts."""
    pool = message_pool(DEFAULT_DEVICES, seed=1)
    kinds = {d.name: d.type for d in DEFAULT_DEVICES}
    counts: dict[str, int] = {}
    for name, _ in pool:
        counts[kinds[name]] = counts.get(kinds[name], 0) + 1
    share = {k: v / len(pool) for k, v in counts.items()}
    assert share["bed_mat"] > 0.3 and share["motion"] > 0.25
    assert 0 < share["wearable"] < 0.1


def test_simulate_cli_scale_mode(broker: BrokerSettings, subscribe, topic_root: str) -> None:
    """Guards against the CLI wiring of --homes, --rate-per-home, --duration and --progress-every."""
    sub = subscribe(f"{topic_root}/#")
    done = subprocess.run([sys.executable, "-m", "homesafe.cli", "simulate", "--homes", "50", "--rate-per-home", "4",
                           "--duration", "2", "--progress-every", "0.5", "--base-topic", f"{topic_root}/{{home}}",
                           "--broker", broker.url], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("messages sent;") >= 2
    sent = int(re.search(r"([\d,]+) messages in", done.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert sent >= 400
    wait_until(lambda: len(sub.snapshot()) >= 400, 10, what="400 messages")


def test_several_homes_need_distinct_topics() -> None:
    """Guards against thousands of homes publishing over each other under one Zigbee2MQTT base topic."""
    done = subprocess.run([sys.executable, "-m", "homesafe.cli", "simulate", "--homes", "3", "--base-topic",
                           "zigbee2mqtt", "--duration", "1"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "put {home} in --base-topic" in done.stderr


def test_an_unreachable_target_still_ends_on_time_and_says_it_fell_short(broker: BrokerSettings,
                                                                        topic_root: str) -> None:
    """Guards against a run that, having fallen behind, tries to catch up after its duration (it hung with
    millions of messages queued) or reports the target as achieved."""
    lines: list[str] = []
    started = time.monotonic()
    report = run_scale(ScaleOptions(broker, homes=100, rate_per_home=10_000.0, duration_s=1.0,
                                    base_topic=f"{topic_root}/{{home}}", progress_every_s=0.5), echo=lines.append)
    assert time.monotonic() - started < 10
    assert 0 < report.sent < 100 * 10_000
    assert report.achieved_rate < report.target_rate
    assert re.search(r"target 1,000,000 msg/s \(\d+%\)", lines[-1]), lines[-1]
