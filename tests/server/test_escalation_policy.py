"""Escalation policies as data (server/escalation/policy.py, default_policy.yaml) and their settings."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.protocol import SEVERITY_OF, AlertType, Severity
from server.app import create_app
from server.config import ServerSettings
from server.escalation import PolicyError, default_policy, load_policy, parse_policy
from server.escalation.policy import CATEGORIES, DEFAULT_POLICY_PATH

_DEFAULT_DOC: dict[str, Any] = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))


def _doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(_DEFAULT_DOC)
    doc.update(changes)
    return doc


def test_defaults_cover_every_alert_type_and_category_as_the_issue_asks() -> None:
    """Guards the shipped ladders: critical calls and texts the on-duty responder at once and climbs within
    two minutes, high starts with the visitor, maintenance goes to the maintenance queue, never to family."""
    policy = default_policy()

    for alert_type in AlertType:
        severity = SEVERITY_OF[alert_type]
        for category in CATEGORIES:
            rule = policy.select(type_=alert_type.value, severity=severity.value, category=category)
            assert rule is not None, (alert_type, category)
            first = rule.ladder[0]
            whos = {who for step in rule.ladder for who in step.who}
            if severity is Severity.CRITICAL:
                assert (first.who, first.how) == (("on_duty_responder",), "both")
                assert all(step.wait_s <= 120 for step in rule.ladder)
            elif severity is Severity.HIGH:
                assert first.who == ("visitor",)
            else:
                assert whos == {"maintenance"}
                assert not whos & {"family", "family_all"}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d["rules"][0]["ladder"][1].update(how="fax"), "rules[0].ladder[1].how", "expected one of both"),
        (lambda d: d["rules"][1]["ladder"][0].update(wait="soon"), "rules[1].ladder[0].wait", "duration"),
        (lambda d: d["rules"][1]["ladder"][0].update(wait=0), "rules[1].ladder[0].wait", "more than 0 s"),
        (lambda d: d["rules"][1]["ladder"][0].update(who="neighbour"), "rules[1].ladder[0].who[0]", "neighbour"),
        (lambda d: d["rules"][2]["ladder"][0].update(wiat="5m"), "rules[2].ladder[0].wiat", "unknown field"),
        (lambda d: d["rules"][2]["ladder"][0].pop("how"), "rules[2].ladder[0].how", "is required"),
        (lambda d: d["rules"][4]["ladder"].append({"who": "family", "how": "sms", "wait": "1h"}),
         "rules[4].ladder[1].who", "never go to family"),
        (lambda d: d["rules"][4]["match"].update(severities=["maintenance"], types=["BATTERY_LOW", "SOS"]),
         "rules", "no rule matches DEVICE_SILENT (maintenance) for category safety_net"),
        (lambda d: d["rules"][0]["match"].update(categories=["orphans"]), "rules[0].match.categories[0]", "orphans"),
        (lambda d: d.pop("rules"), "rules", "is required"),
        (lambda d: d["quiet_hours"].update(start="10pm"), "quiet_hours.start", "HH:MM"),
        (lambda d: d.update(timezone="Mars/Olympus"), "timezone", "IANA"),
        (lambda d: d["rate_limit"].update(per_number_per_minute=1), "rate_limit.per_number_per_minute", ">= 2"),
        (lambda d: d["final"].update(who="family"), "final.who", "expected one of emergency, maintenance, operator"),
        (lambda d: d.update(version=2), "version", "expected 1"),
        (lambda d: d["rules"][3].update(name="critical"), "rules[3].name", "duplicate"),
    ],
    ids=[
        "bad-how", "bad-wait", "zero-wait", "unknown-who", "typo-field", "missing-how", "maintenance-to-family",
        "type-not-covered", "unknown-category", "no-rules", "bad-quiet-start", "bad-timezone", "rate-too-low",
        "final-to-family", "version", "duplicate-name",
    ],
)
def test_policy_errors_name_the_field(change: Any, field: str, words: str) -> None:
    """Guards an operator editing the policy: a mistake is refused at start-up, saying where it is."""
    doc = _doc()
    change(doc)

    with pytest.raises(PolicyError) as caught:
        parse_policy(doc, source="site.yaml")

    assert caught.value.field == field
    assert str(caught.value).startswith(f"site.yaml: {field}: ")
    assert words in str(caught.value)


def test_policy_files_load_from_yaml_and_json(tmp_path: Path) -> None:
    """Guards "loadable/overridable": a site's own file, in either format, replaces the defaults."""
    doc = _doc()
    doc["rules"][1]["ladder"][0]["wait"] = 30  # plain seconds
    as_json, as_yaml, broken = tmp_path / "p.json", tmp_path / "p.yaml", tmp_path / "broken.yaml"
    as_json.write_text(json.dumps(doc), encoding="utf-8")
    as_yaml.write_text(yaml.safe_dump(doc), encoding="utf-8")
    broken.write_text("rules: [", encoding="utf-8")

    for path in (as_json, as_yaml):
        rule = load_policy(path).select(type_="SOS", severity="critical", category="other")
        assert rule is not None and rule.ladder[0].wait_s == 30.0
    with pytest.raises(PolicyError, match=r"broken\.yaml: : not valid yaml"):
        load_policy(broken)
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy(tmp_path / "missing.yaml")


def test_quiet_hours_hold_only_maintenance_steps_and_only_inside_the_window() -> None:
    """Guards against quiet hours ever delaying a critical or high alert, or holding maintenance by day."""
    policy = default_policy()  # quiet 22:00-07:00 Asia/Shanghai
    night = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    day = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai

    held = policy.quiet_until(night, severity="maintenance", who=["maintenance"])

    assert held == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # 07:00 next morning in Shanghai
    assert policy.quiet_until(day, severity="maintenance", who=["maintenance"]) is None
    assert policy.quiet_until(night, severity="maintenance", who=["operator"]) is None
    for severity in ("critical", "high"):
        assert policy.quiet_until(night, severity=severity, who=["family", "maintenance"]) is None


def test_bad_policy_file_stops_the_server_at_start_up(tmp_path: Path, db_url: str) -> None:
    """Guards against a broken policy surfacing only when the first SOS needs a ladder."""
    path = tmp_path / "policy.yaml"
    doc = _doc()
    doc["rules"][0]["ladder"][0]["how"] = "pigeon"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")

    with pytest.raises(PolicyError, match=r"rules\[0\]\.ladder\[0\]\.how: expected one of both, sms, voice"):
        create_app(ServerSettings(database_url=db_url, escalation_policy=str(path)))


def test_time_scale_and_mqtt_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards `homesafe demo --time-scale`: the env var is a number, a nonsense one is refused by name."""
    monkeypatch.setenv("HOMESAFE_TIME_SCALE", "0.01")
    monkeypatch.setenv("HOMESAFE_MQTT_URL", "mqtt://127.0.0.1:1883")

    settings = ServerSettings.from_env()

    assert (settings.time_scale, settings.mqtt_url) == (0.01, "mqtt://127.0.0.1:1883")
    monkeypatch.setenv("HOMESAFE_TIME_SCALE", "fast")
    with pytest.raises(ValueError, match="HOMESAFE_TIME_SCALE='fast' is not a number"):
        ServerSettings.from_env()
    with pytest.raises(ValueError, match="time_scale must be > 0"):
        ServerSettings(time_scale=0)
