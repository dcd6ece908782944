"""The server's typed settings, built once at start-up and handed to `create_app`.

There is no module-level settings object: `homesafe demo` runs several servers and gateways with
different settings in one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, Final

ENV_PREFIX: Final = "HOMESAFE_"
ENV_FIELDS: Final = (
    "database_url",
    "admin_token",
    "ingest_token",
    "operator_phone",
    "notifier",
    "twilio_account_sid",
    "twilio_auth_token",
    "twilio_from",
    "twilio_api_url",
    "public_base_url",
    "link_secret",
    "time_scale",
    "mqtt_url",
    "escalation_policy",
    "maintenance_phone",
    "emergency_phone",
)


@dataclass(frozen=True)
class ServerSettings:
    """Where the server listens, what it stores into, and how it notifies people."""

    database_url: str = "sqlite:///homesafe.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # The bootstrap admin's bearer token (HOMESAFE_ADMIN_TOKEN). Unset: only tokens issued into the
    # database (`homesafe token create`) open the API; there is no anonymous access.
    admin_token: str | None = field(default=None, repr=False)
    ingest_token: str | None = field(default=None, repr=False)  # when set, ingest needs `Bearer <token>`
    operator_phone: str = "service-centre"  # who hears about an alert nobody in the registry would
    notifier: str = "console"
    dispatch_interval_s: float = 1.0
    # Twilio (notifier="twilio"): the account, the sending number (E.164), and the REST API's base URL
    # (unset means https://api.twilio.com; a Twilio-compatible server or a test double otherwise).
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from: str | None = None
    twilio_api_url: str | None = None
    # Where providers and people reach this server from outside (behind a proxy, not host:port): status
    # callbacks, voice TwiML and ack links are built on it, and webhook signatures are checked against it.
    public_base_url: str | None = None
    # Signs one-time ack links; a random one is made at start when unset (links then die with a restart).
    link_secret: str | None = field(default=None, repr=False)
    # Escalation (server/escalation/): the policy file (YAML/JSON; unset = the shipped defaults), a factor
    # on every wait (0.01 turns a minute into 0.6 s for demos and tests), where maintenance alerts go
    # (unset = operator_phone), the emergency line a policy step may call (unset = such steps are skipped),
    # and the broker acks go down to the homes on (unset = acks are not published, only logged).
    escalation_policy: str | None = None
    time_scale: float = 1.0
    maintenance_phone: str | None = None
    emergency_phone: str | None = None
    mqtt_url: str | None = None

    def __post_init__(self) -> None:
        if not self.time_scale > 0:
            raise ValueError(f"time_scale must be > 0, got {self.time_scale}; 1.0 is real time, 0.01 is 100x faster")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} out of range 0..65535 (0 picks a free port)")
        if self.dispatch_interval_s <= 0:
            raise ValueError(f"dispatch_interval_s must be > 0 s, got {self.dispatch_interval_s}")
        if not self.operator_phone:
            raise ValueError("operator_phone is empty; alerts for unregistered homes would reach nobody")
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise ValueError("admin_token is shorter than 16 characters; use e.g. `openssl rand -base64 32`")
        if self.ingest_token == "":
            raise ValueError("ingest_token is empty; leave it unset to disable ingest auth, or set a secret")
        for name in ("public_base_url", "twilio_api_url"):
            url = getattr(self, name)
            if url is not None and not url.startswith(("http://", "https://")):
                raise ValueError(f"{name} {url!r} is not an absolute URL; expected e.g. 'https://homesafe.example.org'")
        if self.link_secret is not None and len(self.link_secret) < 16:
            raise ValueError("link_secret is shorter than 16 characters; use e.g. `openssl rand -base64 32`")

    @classmethod
    def from_env(cls, **overrides: Any) -> ServerSettings:
        """Settings from `HOMESAFE_<FIELD>` for each of `ENV_FIELDS` (e.g. `HOMESAFE_DATABASE_URL`).

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
                values[name] = _from_text(name, text)
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)


_FLOAT_FIELDS: Final = frozenset({"time_scale", "dispatch_interval_s"})


def _from_text(name: str, text: str) -> Any:
    """An environment variable's text as the field's type."""
    if name not in _FLOAT_FIELDS:
        return text
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={text!r} is not a number; expected e.g. 0.01") from None
