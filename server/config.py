"""The server's typed settings, built once at start-up and handed to `create_app`.

There is no module-level settings object: `homesafe demo` runs several servers and gateways with
different settings in one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, Final

ENV_PREFIX: Final = "HOMESAFE_"
ENV_FIELDS: Final = ("database_url", "ingest_token", "operator_phone")


@dataclass(frozen=True)
class ServerSettings:
    """Where the server listens, what it stores into, and how it notifies people."""

    database_url: str = "sqlite:///homesafe.db"
    host: str = "127.0.0.1"
    port: int = 8000
    ingest_token: str | None = field(default=None, repr=False)  # when set, ingest needs `Bearer <token>`
    operator_phone: str = "service-centre"  # who hears about an alert nobody in the registry would
    notifier: str = "console"
    dispatch_interval_s: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} out of range 0..65535 (0 picks a free port)")
        if self.dispatch_interval_s <= 0:
            raise ValueError(f"dispatch_interval_s must be > 0 s, got {self.dispatch_interval_s}")
        if not self.operator_phone:
            raise ValueError("operator_phone is empty; alerts for unregistered homes would reach nobody")
        if self.ingest_token == "":
            raise ValueError("ingest_token is empty; leave it unset to disable ingest auth, or set a secret")

    @classmethod
    def from_env(cls, **overrides: Any) -> ServerSettings:
        """Settings from `HOMESAFE_DATABASE_URL`, `HOMESAFE_INGEST_TOKEN`, `HOMESAFE_OPERATOR_PHONE`.

        Keyword overrides win over the environment; an override of `None` counts as not given, so CLI
        flags that were left out fall through to the environment and the defaults.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown server settings {sorted(unknown)}; expected some of {sorted(known)}")
        values: dict[str, Any] = {}
        for name in ENV_FIELDS:
            text = os.environ.get(f"{ENV_PREFIX}{name.upper()}", "")
            if text:
                values[name] = text
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)
