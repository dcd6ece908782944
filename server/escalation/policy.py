"""Escalation policies as data: who is told of an alert, how, and how long to wait before the next step.

A policy is a YAML or JSON document (`default_policy.yaml` ships the defaults). It is validated once, at
start-up, and every error names the field it is about, e.g. `rules[2].ladder[0].how: expected one of
both, sms, voice; got 'fax'`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from gateway.protocol import SEVERITY_OF, AlertType, Severity
from server.notifiers.ratelimit import SendLimits

DEFAULT_POLICY_PATH: Final = Path(__file__).with_name("default_policy.yaml")

CATEGORIES: Final = ("safety_net", "disabled_or_dementia", "special_difficulty", "other")
DEFAULT_CATEGORY: Final = "other"
# Who a step can reach. The first five depend on the home (registry), the last three are service numbers.
RECIPIENT_KINDS: Final = (
    "on_duty_responder",  # the first on-duty responder of the home's community
    "next_responder",  # the next on-duty responder this ladder has not reached yet
    "visitor",  # the responders assigned to visit the home
    "family",  # the next family contact, in their order, this ladder has not reached yet
    "family_all",  # every family contact at once
    "operator",  # the service centre
    "maintenance",  # the maintenance queue (the operator unless a maintenance number is set)
    "emergency",  # the emergency number, when one is configured
)
FAMILY_KINDS: Final = frozenset({"family", "family_all"})
SERVICE_KINDS: Final = frozenset({"operator", "maintenance", "emergency"})
HOWS: Final = ("both", "sms", "voice")
CHANNELS_OF: Final = {"sms": ("sms",), "voice": ("voice",), "both": ("sms", "voice")}
# Quiet hours may hold back steps of these severities only: a critical or high alert is never delayed.
QUIET_SEVERITIES: Final = frozenset({Severity.MAINTENANCE.value})
MAX_WAIT: Final = timedelta(days=7)
DEFAULT_STORM_WINDOW_S: Final = 15 * 60.0
DEFAULT_STORM_FOLLOWUPS: Final = 5
# Twilio's defaults for a long code (1 SMS a second) and an account (1 call a second), and a per-phone cap
# low enough for the domestic providers that have one.
DEFAULT_SEND_LIMITS: Final = SendLimits(sms_per_s=1.0, calls_per_s=1.0, burst=3.0, per_destination_per_s=0.5)

# How urgent a severity is, most urgent first: what leads a storm group and what the outbox sends first.
SEVERITY_ORDER: Final = (Severity.CRITICAL.value, Severity.HIGH.value, Severity.MAINTENANCE.value)


def severity_rank(severity: str) -> int:
    """0 for critical, 1 high, 2 maintenance; an unknown severity (a newer gateway) counts as high."""
    try:
        return SEVERITY_ORDER.index(severity)
    except ValueError:
        return SEVERITY_ORDER.index(Severity.HIGH.value)


_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class PolicyError(ValueError):
    """A policy document that cannot be used; `field` is the path of the offending field."""

    def __init__(self, field: str, message: str, *, source: str = "policy") -> None:
        super().__init__(f"{source}: {field}: {message}")
        self.field = field
        self.source = source


@dataclass(frozen=True, slots=True)
class Step:
    """One rung of a ladder: reach `who` through `how`, then wait `wait_s` for an acknowledgement."""

    who: tuple[str, ...]
    how: str
    wait_s: float

    @property
    def channels(self) -> tuple[str, ...]:
        """The notification channels of this step, e.g. `("sms", "voice")` for `both`."""
        return CHANNELS_OF[self.how]

    def as_dict(self) -> dict[str, Any]:
        """Plain data, as stored with an alert (`alerts.ladder`)."""
        return {"who": list(self.who), "how": self.how, "wait_s": self.wait_s}


@dataclass(frozen=True, slots=True)
class Match:
    """Which alerts a rule is for; `None` means any."""

    types: frozenset[str] | None = None
    severities: frozenset[str] | None = None
    categories: frozenset[str] | None = None

    def fits(self, *, type_: str, severity: str, category: str) -> bool:
        """Whether an alert of this type, severity and resident category falls under the rule."""
        return (
            (self.types is None or type_ in self.types)
            and (self.severities is None or severity in self.severities)
            and (self.categories is None or category in self.categories)
        )


@dataclass(frozen=True, slots=True)
class Rule:
    """A named ladder for the alerts its `match` selects."""

    name: str
    match: Match
    ladder: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours in which steps to `applies_to` of maintenance alerts wait until `end`."""

    start: time
    end: time
    applies_to: frozenset[str]


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated escalation policy."""

    timezone: str
    rules: tuple[Rule, ...]
    final_who: str = "operator"
    final_how: str = "sms"
    quiet_hours: QuietHours | None = None
    per_number_per_minute: int = 6
    # Storms (server/escalation/storms.py): alerts of one home opened within this many seconds (time-scaled)
    # of an unresolved one join its group; at most `storm_followups` of them are announced per group.
    storm_window_s: float = DEFAULT_STORM_WINDOW_S
    storm_followups: int = DEFAULT_STORM_FOLLOWUPS
    send_limits: SendLimits = DEFAULT_SEND_LIMITS  # the provider's rates, paced by the dispatcher

    def select(self, *, type_: str, severity: str, category: str) -> Rule | None:
        """The first rule fitting the alert, or `None` (a validated policy covers every known type)."""
        for rule in self.rules:
            if rule.match.fits(type_=type_, severity=severity, category=category):
                return rule
        return None

    def quiet_until(self, now: datetime, *, severity: str, who: tuple[str, ...] | list[str]) -> datetime | None:
        """When quiet hours hold this step back, the aware instant they end; else `None`.

        Never for critical or high alerts, whatever the document says.
        """
        quiet = self.quiet_hours
        if quiet is None or severity not in QUIET_SEVERITIES or not quiet.applies_to.intersection(who):
            return None
        local = now.astimezone(ZoneInfo(self.timezone))
        at = local.time().replace(tzinfo=None)
        if quiet.start == quiet.end:
            return None
        # A span like 22:00-07:00 crosses midnight.
        inside = quiet.start <= at < quiet.end if quiet.start < quiet.end else (at >= quiet.start or at < quiet.end)
        if not inside:
            return None
        end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end


def parse_duration(value: Any, *, field: str, source: str = "policy") -> float:
    """Seconds from a number of seconds or a text like `90s`, `2m`, `1h30m`."""
    if isinstance(value, bool):
        raise PolicyError(field, f"expected a duration like 90s, 2m or 1h; got {value!r}", source=source)
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (found := _DURATION.match(value)) and any(found.groups()):
        hours, minutes, secs = (float(part) if part else 0.0 for part in found.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        raise PolicyError(field, f"expected a duration like 90s, 2m or 1h; got {value!r}", source=source)
    if not 0 < seconds <= MAX_WAIT.total_seconds():
        raise PolicyError(
            field, f"must be more than 0 s and at most {MAX_WAIT.days} days; got {value!r}", source=source
        )
    return seconds


class _Reader:
    """Walks a document, naming each field it complains about."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, message: str) -> PolicyError:
        return PolicyError(field, message, source=self.source)

    def mapping(self, value: Any, field: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(field, f"expected a mapping with {', '.join(allowed)}; got {type(value).__name__}")
        for key in value:
            if key not in allowed:
                raise self.fail(_join(field, str(key)), f"unknown field; expected one of {', '.join(allowed)}")
        for key in required:
            if key not in value:
                raise self.fail(_join(field, key), "is required")
        return value

    def choice(self, value: Any, field: str, choices: tuple[str, ...] | list[str]) -> str:
        if not isinstance(value, str) or value not in choices:
            raise self.fail(field, f"expected one of {', '.join(sorted(choices))}; got {value!r}")
        return value

    def choices(self, value: Any, field: str, choices: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise self.fail(field, f"expected one or a list of {', '.join(sorted(choices))}; got {value!r}")
        return tuple(dict.fromkeys(self.choice(item, f"{field}[{i}]", choices) for i, item in enumerate(items)))


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _types_matched(match: Match) -> set[str]:
    types = set(match.types) if match.types is not None else {t.value for t in AlertType}
    if match.severities is not None:
        types = {t for t in types if SEVERITY_OF[AlertType(t)].value in match.severities}
    return types


def parse_policy(document: Any, *, source: str = "policy") -> Policy:
    """Validate a policy document (already parsed from YAML/JSON) into a `Policy`.

    Raises:
        PolicyError: naming the field, e.g. `rules[0].ladder[1].wait: expected a duration ...`.
    """
    read = _Reader(source)
    doc = read.mapping(
        document,
        "",
        ("version", "timezone", "quiet_hours", "rate_limit", "storm", "final", "rules"),
        ("version", "rules"),
    )
    if doc["version"] != 1:
        raise read.fail("version", f"expected 1; got {doc['version']!r}")
    timezone = doc.get("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise read.fail("timezone", f"expected an IANA time zone like Asia/Shanghai; got {timezone!r}") from None

    quiet = None
    if doc.get("quiet_hours") is not None:
        raw = read.mapping(doc["quiet_hours"], "quiet_hours", ("start", "end", "applies_to"), ("start", "end"))
        bounds = []
        for key in ("start", "end"):
            found = _CLOCK.match(str(raw[key]))
            if found is None:
                raise read.fail(f"quiet_hours.{key}", f"expected a local time HH:MM like 22:00; got {raw[key]!r}")
            bounds.append(time(int(found.group(1)), int(found.group(2))))
        applies_to = read.choices(raw.get("applies_to", ["family", "family_all"]), "quiet_hours.applies_to",
                                  RECIPIENT_KINDS)
        quiet = QuietHours(start=bounds[0], end=bounds[1], applies_to=frozenset(applies_to))

    per_minute, send_limits = _parse_rate_limit(read, doc.get("rate_limit"))
    storm_window_s, storm_followups = _parse_storm(read, doc.get("storm"))

    final_who, final_how = "operator", "sms"
    if doc.get("final") is not None:
        raw = read.mapping(doc["final"], "final", ("who", "how"), ("who",))
        final_who = read.choice(raw["who"], "final.who", sorted(SERVICE_KINDS))
        final_how = read.choice(raw.get("how", "sms"), "final.how", HOWS)

    raw_rules = doc["rules"]
    if not isinstance(raw_rules, list) or not raw_rules:
        raise read.fail("rules", "expected a non-empty list of rules")
    rules = [_parse_rule(read, raw, f"rules[{i}]") for i, raw in enumerate(raw_rules)]
    names = [rule.name for rule in rules]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise read.fail(f"rules[{i}].name", f"duplicate rule name {name!r}")

    policy = Policy(
        timezone=timezone,
        rules=tuple(rules),
        final_who=final_who,
        final_how=final_how,
        quiet_hours=quiet,
        per_number_per_minute=per_minute,
        storm_window_s=storm_window_s,
        storm_followups=storm_followups,
        send_limits=send_limits,
    )
    # Every known alert type, at its severity, for every resident category must find a ladder.
    for alert_type in AlertType:
        severity = SEVERITY_OF[alert_type].value
        for category in CATEGORIES:
            if policy.select(type_=alert_type.value, severity=severity, category=category) is None:
                raise read.fail(
                    "rules",
                    f"no rule matches {alert_type.value} ({severity}) for category {category}; "
                    "add a rule or widen a match (a rule without `match` takes everything)",
                )
    return policy


def _parse_rate_limit(read: _Reader, raw: Any) -> tuple[int, SendLimits]:
    if raw is None:
        return 6, DEFAULT_SEND_LIMITS
    values = read.mapping(raw, "rate_limit", ("per_number_per_minute", "provider"), ("per_number_per_minute",))
    per_minute = values["per_number_per_minute"]
    if isinstance(per_minute, bool) or not isinstance(per_minute, int) or per_minute < 2:
        # Two: a critical step calls and texts the same number at once.
        raise read.fail("rate_limit.per_number_per_minute", f"expected an integer >= 2; got {per_minute!r}")
    if values.get("provider") is None:
        return per_minute, DEFAULT_SEND_LIMITS
    return per_minute, _parse_send_limits(read, values["provider"], "rate_limit.provider")


def _parse_storm(read: _Reader, raw: Any) -> tuple[float, int]:
    if raw is None:
        return DEFAULT_STORM_WINDOW_S, DEFAULT_STORM_FOLLOWUPS
    values = read.mapping(raw, "storm", ("window", "followups"))
    window_s = DEFAULT_STORM_WINDOW_S
    if "window" in values:
        window_s = parse_duration(values["window"], field="storm.window", source=read.source)
    followups = values.get("followups", DEFAULT_STORM_FOLLOWUPS)
    if isinstance(followups, bool) or not isinstance(followups, int) or followups < 0:
        raise read.fail("storm.followups", f"expected an integer >= 0 (0: members join silently); got {followups!r}")
    return window_s, followups


def _rate(read: _Reader, value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise read.fail(field, f"expected a number > 0; got {value!r}")
    return float(value)


def _parse_send_limits(read: _Reader, raw: Any, field: str) -> SendLimits:
    keys = ("sms_per_second", "calls_per_second", "burst", "per_destination_per_minute", "per_destination_burst")
    values = read.mapping(raw, field, keys)
    default = DEFAULT_SEND_LIMITS
    burst = _rate(read, values.get("burst", default.burst), f"{field}.burst")
    destination_burst = _rate(
        read, values.get("per_destination_burst", default.destination_burst), f"{field}.per_destination_burst"
    )
    for name, got in (("burst", burst), ("per_destination_burst", destination_burst)):
        if got < 1:
            raise read.fail(f"{field}.{name}", f"expected a number >= 1 (a smaller bucket never sends); got {got!r}")
    per_destination = default.per_destination_per_s
    if "per_destination_per_minute" in values:
        got = values["per_destination_per_minute"]
        per_destination = None if got is None else _rate(read, got, f"{field}.per_destination_per_minute") / 60
    return SendLimits(
        sms_per_s=_rate(read, values.get("sms_per_second", default.sms_per_s), f"{field}.sms_per_second"),
        calls_per_s=_rate(read, values.get("calls_per_second", default.calls_per_s), f"{field}.calls_per_second"),
        burst=burst,
        per_destination_per_s=per_destination,
        destination_burst=destination_burst,
    )


def _parse_rule(read: _Reader, raw: Any, field: str) -> Rule:
    rule = read.mapping(raw, field, ("name", "match", "ladder"), ("name", "ladder"))
    name = rule["name"]
    if not isinstance(name, str) or not name:
        raise read.fail(f"{field}.name", f"expected a non-empty text; got {name!r}")
    match = Match()
    if rule.get("match") is not None:
        raw_match = read.mapping(rule["match"], f"{field}.match", ("types", "severities", "categories"))
        values: dict[str, frozenset[str] | None] = {}
        for key, allowed in (
            ("types", [t.value for t in AlertType]),
            ("severities", [s.value for s in Severity]),
            ("categories", list(CATEGORIES)),
        ):
            got = raw_match.get(key)
            values[key] = None if got is None else frozenset(read.choices(got, f"{field}.match.{key}", allowed))
        match = Match(**values)
    raw_ladder = rule["ladder"]
    if not isinstance(raw_ladder, list) or not raw_ladder:
        raise read.fail(f"{field}.ladder", "expected a non-empty list of steps")
    maintenance_types = sorted(t for t in _types_matched(match) if SEVERITY_OF[AlertType(t)] is Severity.MAINTENANCE)
    if match.severities is not None and Severity.MAINTENANCE.value in match.severities:
        maintenance_types = maintenance_types or ["maintenance"]
    steps = []
    for i, raw_step in enumerate(raw_ladder):
        step_field = f"{field}.ladder[{i}]"
        step = read.mapping(raw_step, step_field, ("who", "how", "wait"), ("who", "how", "wait"))
        who = read.choices(step["who"], f"{step_field}.who", RECIPIENT_KINDS)
        if maintenance_types and FAMILY_KINDS.intersection(who):
            raise read.fail(
                f"{step_field}.who",
                f"maintenance alerts ({', '.join(maintenance_types)}) never go to family; "
                "use maintenance or operator, or narrow the rule's match",
            )
        how = read.choice(step["how"], f"{step_field}.how", HOWS)
        wait_s = parse_duration(step["wait"], field=f"{step_field}.wait", source=read.source)
        steps.append(Step(who=who, how=how, wait_s=wait_s))
    return Rule(name=name, match=match, ladder=tuple(steps))


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and validate a policy file (`.yaml`, `.yml` or `.json`); `None` gives the shipped defaults."""
    if path is None:
        return default_policy()
    return _load(Path(path))


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The shipped default policy (`server/escalation/default_policy.yaml`), parsed once."""
    return _load(DEFAULT_POLICY_PATH)


def _load(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError("", f"cannot read the policy file: {exc.strerror}", source=str(path)) from exc
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise PolicyError("", f"not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}", source=str(path)) from exc
    return parse_policy(document, source=str(path))
