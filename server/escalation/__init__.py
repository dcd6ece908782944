"""The escalation engine: policies as data, ladders as persisted step rows, one scheduler thread.

`policy` validates the ladders, `recipients` finds who a step reaches, `ladder` fires steps,
`scheduler` fires them when due, `acks` tells the home that help is coming.
"""

from server.escalation.config import EscalationConfig
from server.escalation.policy import Policy, PolicyError, default_policy, load_policy, parse_policy

__all__ = ["EscalationConfig", "Policy", "PolicyError", "default_policy", "load_policy", "parse_policy"]
