"""`homesafe simulate`: a scenario against a broker, or thousands of homes at a target rate (scale mode)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import yaml

from gateway.protocol import BrokerSettings
from simulators.home import SimulatedHome
from simulators.runner import ScenarioRunner, command_hook, run_scenario
from simulators.scale import DEFAULT_RATE_PER_HOME, ScaleOptions, run_scale
from simulators.scenario import bundled_scenarios, load_scenario
from simulators.schedule import SimMessage


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """What `homesafe simulate` was asked to do; `scenario` picks the mode."""

    broker: BrokerSettings
    scenario: str | None = None
    homes: int | None = None
    base_topic: str | None = None
    speed: float | None = None
    duration_s: float | None = None  # wall-clock seconds, in both modes
    rate_per_home: float | None = None
    press_every_s: float | None = None
    qos: int | None = None
    seed: int | None = None
    uplink_hook: str | None = None
    dry_run: bool = False
    print_edge_config: bool = False
    progress_every_s: float = 5.0


def _check(options: SimulationOptions) -> None:
    if options.scenario:
        given = [flag for flag, value in (("--rate-per-home", options.rate_per_home), ("--qos", options.qos),
                                          ("--press-every", options.press_every_s)) if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)} only apply to scale mode (without --scenario); a scenario says "
                             f"what happens in its timeline")
    else:
        given = [flag for flag, value in (("--speed", options.speed), ("--uplink-hook", options.uplink_hook),
                                          ("--dry-run", options.dry_run or None)) if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)} only apply with --scenario")
    if options.homes is not None and options.homes < 1:
        raise ValueError(f"--homes must be at least 1, got {options.homes}")


def run_simulation(options: SimulationOptions, *, echo: Callable[[str], None] = print) -> int:
    """Run what `options` ask for; returns the process exit code."""
    _check(options)
    if options.scenario:
        return _scenario(options, echo)
    if options.print_edge_config:
        homes = options.homes or 1
        base = options.base_topic or ("zigbee2mqtt/{home}" if homes > 1 else "zigbee2mqtt")
        echo(edge_configs([SimulatedHome(f"h{i:04d}", base.format(home=f"h{i:04d}"))
                           for i in range(1, homes + 1)], options.broker))
        return 0
    report = run_scale(ScaleOptions(
        broker=options.broker, homes=options.homes or 1, rate_per_home=options.rate_per_home or DEFAULT_RATE_PER_HOME,
        duration_s=options.duration_s, base_topic=options.base_topic, qos=options.qos or 0,
        seed=options.seed if options.seed is not None else 1, progress_every_s=options.progress_every_s,
        press_every_s=options.press_every_s), echo=echo)
    return 0 if report.sent else 1


def _scenario(options: SimulationOptions, echo: Callable[[str], None]) -> int:
    scenario = load_scenario(options.scenario or "")
    hook = command_hook(options.uplink_hook) if options.uplink_hook else None
    settings: dict[str, Any] = {"speed": options.speed, "base_topic": options.base_topic, "homes": options.homes,
                                "seed": options.seed, "on_uplink": hook, "echo": echo}
    if options.print_edge_config:
        echo(edge_configs(ScenarioRunner(scenario, **settings).homes, options.broker))
        return 0
    if options.dry_run:  # the messages, with the story's lines where they happen
        runner = ScenarioRunner(scenario, **{**settings, "speed": math.inf, "echo": lambda _line: None})
        lines = [(m.t, 1, _describe(m, scenario.tz)) for m in runner.messages()]
        for _t, _order, line in sorted([*lines, *((t, 0, line) for t, line in runner.story)],
                                       key=lambda item: item[:2]):
            echo(line)
        echo(runner.report.summary())
        return 0
    speed = options.speed if options.speed is not None else scenario.speed
    until = None
    if options.duration_s is not None and math.isfinite(speed):
        until = options.duration_s * speed
    echo(f"scenario {scenario.name}: {scenario.description or ''} (from {scenario.start.isoformat()} at "
         f"{'max' if math.isinf(speed) else f'{speed:g}x'} speed, broker {options.broker.url})")
    report = asyncio.run(run_scenario(scenario, options.broker, until=until, **settings))
    echo(report.summary())
    return 0


def _describe(message: SimMessage, tz: tzinfo) -> str:
    when = datetime.fromtimestamp(message.t, tz).strftime("%a %H:%M:%S")
    text = message.payload[:160].decode(errors="replace")
    return f"{when} {message.topic} {text}{' ...' if len(message.payload) > 160 else ''}"


def edge_configs(homes: list[SimulatedHome], broker: BrokerSettings) -> str:
    """Edge agent configurations (YAML documents, one per home) matching the simulated homes' devices."""
    docs = [{"home": home.home, "local_broker": broker.url, "uplink": {"url": broker.url},
             "z2m_base_topic": home.base_topic, "spool_path": f"{home.home}-spool.db",
             "devices": [{k: v for k, v in d.items() if v is not None} for d in home.edge_devices()]}
            for home in homes]
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=None).rstrip()


def list_scenarios() -> str:
    """The bundled scenarios, one per line with their description."""
    lines = []
    for path in bundled_scenarios():
        scenario = load_scenario(path)
        lines.append(f"{path.stem:24s} {scenario.description}")
    return "\n".join(lines)
