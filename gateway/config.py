"""Settings of one gateway worker, built once by the CLI and handed to `Gateway`."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.protocol import DEFAULT_MAX_FUTURE_SKEW_S, SHARD_COUNT, BrokerSettings


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Which broker and shards a worker serves, and where its alerts go."""

    broker: BrokerSettings = field(default_factory=BrokerSettings)
    server_url: str = "http://127.0.0.1:8000"
    ingest_token: str | None = None
    shards: frozenset[int] = frozenset(range(SHARD_COUNT))
    outbox_path: str = "homesafe-gateway-outbox.db"
    state_path: str | None = None  # per-home state kept across restarts; None: beside the outbox
    save_interval_s: float = 10.0
    worker_id: str = "gw-0"
    max_future_skew_s: float = DEFAULT_MAX_FUTURE_SKEW_S
    tick_interval_s: float = 1.0

    @property
    def state_file(self) -> str:
        return self.state_path or str(self.outbox_path).removesuffix(".db") + "-state.db"

    @property
    def client_id(self) -> str:
        """Stable MQTT client id: the broker keeps this worker's persistent session across restarts."""
        return f"homesafe-{self.worker_id}"
