"""`homesafe simulate`: simulated homes against a real broker, for benches and integrators."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass

import aiomqtt

from gateway.protocol import BrokerSettings, aiomqtt_options
from simulators.home import SimulatedHome


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """What to simulate and where to publish it."""

    broker: BrokerSettings
    homes: int = 1
    base_topic: str = "zigbee2mqtt"
    press_every_s: float | None = None
    duration_s: float | None = None
    seed: int = 1


async def run_simulation(options: SimulationOptions) -> int:
    """Publish everyday life (and presses, if asked) of `homes` homes until the duration ends."""
    rng = random.Random(options.seed)
    if options.homes > 1 and "{home}" not in options.base_topic:
        raise ValueError("several homes need distinct topics: put {home} in --base-topic, e.g. zigbee2mqtt/{home}")
    homes = [SimulatedHome(f"h{i:04d}", base_topic=options.base_topic.format(home=f"h{i:04d}"),
                           rng=random.Random(rng.random())) for i in range(1, options.homes + 1)]
    async with aiomqtt.Client(**aiomqtt_options(options.broker), identifier=f"homesafe-sim-{options.seed}") as client:
        tasks = [asyncio.create_task(home.everyday_life(client)) for home in homes]
        if options.press_every_s:
            tasks.append(asyncio.create_task(_presses(homes, client, options.press_every_s, rng)))
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*tasks), options.duration_s)
        finally:
            for task in tasks:
                task.cancel()
    print(f"simulated {len(homes)} homes; {sum(h.presses for h in homes)} button presses")  # noqa: T201
    return 0


async def _presses(homes: list[SimulatedHome], client: aiomqtt.Client, every_s: float, rng: random.Random) -> None:
    while True:
        await asyncio.sleep(every_s)
        home = rng.choice(homes)
        await home.press_button(client)
        print(f"press: home {home.home} ({home.base_topic})", flush=True)  # noqa: T201
