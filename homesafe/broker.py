"""The demo's embedded MQTT broker (amqtt, pure Python), so `homesafe demo` needs no Mosquitto.

Fine for a demo's ~1k msg/s; it saturates near 4-5k msg/s, so tests and benchmarks use Mosquitto.
"""

from __future__ import annotations

import logging

from amqtt.broker import Broker

_QUIET_LOGGERS = ("amqtt", "transitions")


async def start_embedded_broker(host: str = "127.0.0.1", port: int = 11883) -> Broker:
    """Start an anonymous MQTT 3.1.1 broker on `host:port` in the running event loop."""
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
    )
    try:
        await broker.start()
    except Exception as exc:
        raise RuntimeError(f"cannot start the embedded broker on {host}:{port} ({exc}); "
                           f"pick another port with --broker-port") from exc
    return broker
