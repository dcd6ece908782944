"""What the escalation engine runs on: the validated policy, the service numbers and the time scale."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from server.escalation.policy import Policy, default_policy, load_policy
from server.escalation.recipients import ServiceNumbers

if TYPE_CHECKING:
    from server.config import ServerSettings


@dataclass(frozen=True, slots=True)
class EscalationConfig:
    """Built once at start-up (`from_settings`) and handed to the ingest path and the scheduler.

    Args:
        numbers: the operator, maintenance and emergency numbers.
        policy: the ladders; the shipped defaults unless given.
        time_scale: multiplies every wait (ladder steps, the rate-limit window); 0.01 makes a minute 0.6 s.
    """

    numbers: ServiceNumbers
    policy: Policy = field(default_factory=default_policy)
    time_scale: float = 1.0
    link_secret: str | None = None  # with it, every SMS carries a one-time acknowledgement link
    link_base_url: str | None = None

    def __post_init__(self) -> None:
        if not self.time_scale > 0:
            raise ValueError(f"time_scale must be > 0, got {self.time_scale}; 1.0 is real time")

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> EscalationConfig:
        """The config for a server: loads and validates `settings.escalation_policy` (a `PolicyError` if bad)."""
        return cls(
            numbers=ServiceNumbers(
                operator=settings.operator_phone,
                maintenance=settings.maintenance_phone,
                emergency=settings.emergency_phone,
            ),
            policy=load_policy(settings.escalation_policy),
            time_scale=settings.time_scale,
            link_secret=settings.link_secret,
            # Without a public URL the link points at this server, which must then have a known port.
            link_base_url=settings.public_base_url or (
                f"http://{settings.host}:{settings.port}" if settings.port else None),
        )

    @classmethod
    def for_operator(cls, operator_phone: str) -> EscalationConfig:
        """Default policy, real time, everything beyond the registry going to `operator_phone`."""
        return cls(numbers=ServiceNumbers(operator=operator_phone))

    def scaled(self, seconds: float) -> timedelta:
        """A policy wait in real time under `time_scale`."""
        return timedelta(seconds=seconds * self.time_scale)
