"""Storms from one home (server/escalation/storms.py) through real HTTP: a real server on a real SQLite file,
alerts posted to `/api/ingest/alerts`, and the console outbox writing what a provider would have been given."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from gateway.protocol import SEVERITY_OF, Alert, AlertType, encode
from server.config import ServerSettings
from server.crud.alerts import ingest_alert
from server.crud.lifecycle import acknowledge_by_phone
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import (
    AlertRow,
    EscalationStepRow,
    HomeRow,
    NotificationRow,
    ResponderRow,
    VisitorAssignmentRow,
)
from server.escalation import EscalationConfig
from server.escalation.policy import DEFAULT_POLICY_PATH, PolicyError, parse_policy
from server.escalation.recipients import ServiceNumbers
from server.run import ServerThread
from tests.server.conftest import ADMIN_HEADERS

RESPONDERS = ("+8613800000001", "+8613800000002")
VISITOR = "+8613700000001"
OPERATOR = "+8610000000000"
SCALE = 0.05  # a 60 s step lasts 3 s; the 15 min storm window 45 s


@pytest.fixture
def storm_settings(settings: ServerSettings) -> ServerSettings:
    return replace(settings, time_scale=SCALE, operator_phone=OPERATOR)


def _register(server: ServerThread, *homes: str) -> None:
    """Homes of community east, covered by two on-duty responders (no visitor, no family)."""
    with server.app.state.sessions() as session:
        for home in homes:
            session.add(HomeRow(id=home, community="east"))
        if session.scalar(select(ResponderRow.id).where(ResponderRow.phone == RESPONDERS[0])) is None:
            for index, phone in enumerate(RESPONDERS):
                session.add(ResponderRow(name=f"responder {index}", phone=phone, community="east", on_duty=True))
        session.commit()


def _typed(new_alert: Callable[..., Alert], alert_type: AlertType, **fields: Any) -> Alert:
    return new_alert(type=alert_type, severity=SEVERITY_OF[alert_type], device=alert_type.value.lower(), **fields)


def _ingest(server: ServerThread, *alerts: Alert) -> dict[str, int]:
    response = httpx.post(f"{server.url}/api/ingest/alerts", content=encode(list(alerts)), timeout=5.0)
    response.raise_for_status()
    return response.json()


def _detail(server: ServerThread, alert_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/alerts/{alert_id}", headers=ADMIN_HEADERS, timeout=5.0)
    response.raise_for_status()
    return response.json()


def _notes(server: ServerThread, alert_id: str) -> list[dict[str, Any]]:
    return [e for e in _detail(server, alert_id)["timeline"] if e["entry"] == "notification"]


def _transitions(server: ServerThread, alert_id: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in _detail(server, alert_id)["timeline"] if e["entry"] == "transition" and e["kind"] == kind]


def _steps(server: ServerThread, alert_id: str) -> list[EscalationStepRow]:
    with server.app.state.sessions() as session:
        query = select(EscalationStepRow).where(EscalationStepRow.alert_id == alert_id)
        return list(session.scalars(query.order_by(EscalationStepRow.step_index)).all())


def _outbox(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def _policy_file(tmp_path: Path, **storm: Any) -> str:
    document = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    document["storm"].update(storm)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return str(path)


@pytest.mark.postgres
def test_smoke_gas_inactivity_from_one_home_climb_one_ladder_with_one_follow_up_each(
    start_server: Callable[..., ServerThread],
    storm_settings: ServerSettings,
    new_alert: Callable[..., Alert],
    outbox_stream: io.StringIO,
    wait_until: Callable[..., Any],
) -> None:
    """Guards the kitchen fire: one ladder (SMOKE's), GAS and INACTIVITY grouped under it, the responder
    already called told once about each, and the next person on the ladder told about all three."""
    server = start_server(storm_settings)
    _register(server, "h0003")
    smoke, gas, inactivity = (_typed(new_alert, t) for t in (AlertType.SMOKE, AlertType.GAS, AlertType.INACTIVITY))

    for alert in (smoke, gas, inactivity):
        assert _ingest(server, alert) == {"accepted": 1, "duplicates": 0}

    lead = _detail(server, smoke.id)
    assert lead["group_id"] is None
    assert [m["id"] for m in lead["members"]] == [gas.id, inactivity.id]
    for member in (gas, inactivity):
        detail = _detail(server, member.id)
        assert (detail["group_id"], detail["ladder"], detail["members"]) == (smoke.id, None, [])
        assert _steps(server, member.id) == []
        [note] = _notes(server, member.id)  # one follow-up, to the responder already called
        assert (note["recipient"], note["channel"], note["step"]) == ("responder:1", "sms", None)
        [grouped] = _transitions(server, member.id, "grouped")
        assert f"SMOKE ref {lead['ref']}" in grouped["detail"]
    leader_grouped = [t["detail"] for t in _transitions(server, smoke.id, "grouped")]
    assert leader_grouped == [f"GAS ref {_detail(server, gas.id)['ref']} joined its group",
                              f"INACTIVITY ref {_detail(server, inactivity.id)['ref']} joined its group"]
    wait_until(lambda: len(_notes(server, smoke.id)) == 4, timeout_s=6.0, message="SMOKE's second step not sent")
    step_two = [n for n in _notes(server, smoke.id) if n["step"] == 1]
    assert {n["recipient"] for n in step_two} == {"responder:2"}
    wait_until(lambda: len(_outbox(outbox_stream)) == 6, message="not everything sent")
    lines = _outbox(outbox_stream)
    followups = [line for line in lines if "HomeSafe also:" in line]
    assert len(followups) == 2 and all(RESPONDERS[0] in line for line in followups)
    assert f"GAS at home h0003, ref {_detail(server, gas.id)['ref']} (with SMOKE ref {lead['ref']})" in followups[0]
    to_second = [line for line in lines if f"SMS to {RESPONDERS[1]}" in line]
    assert len(to_second) == 1 and "SMOKE (also GAS, INACTIVITY) at home h0003" in to_second[0]


@pytest.mark.postgres
def test_acknowledging_the_leader_takes_the_group_and_a_member_only_itself(
    start_server: Callable[..., ServerThread],
    storm_settings: ServerSettings,
    new_alert: Callable[..., Alert],
) -> None:
    """Guards the rule a responder expects: taking the emergency takes all of it; taking one grouped
    alert leaves the leader's ladder climbing; closing the leader closes what is still open with it."""
    server = start_server(storm_settings)
    _register(server, "h0003")
    sos, gas, vitals = (_typed(new_alert, t) for t in (AlertType.SOS, AlertType.GAS, AlertType.VITALS))
    _ingest(server, sos, gas, vitals)

    with httpx.Client(base_url=server.url, headers=ADMIN_HEADERS, timeout=5.0) as client:
        member = client.post(f"/api/alerts/{gas.id}/ack")
        assert (member.status_code, member.json()["status"]) == (200, "acknowledged")
        assert _detail(server, sos.id)["status"] in ("open", "notified")
        assert [s.state for s in _steps(server, sos.id)] == ["sent", "pending"]  # still climbing

        leader = client.post(f"/api/alerts/{sos.id}/ack")
        assert leader.status_code == 200, leader.text

        taken = _detail(server, vitals.id)
        assert (taken["status"], taken["acknowledged_by"], taken["ack_channel"]) == ("acknowledged", "admin", "api")
        [ack] = _transitions(server, vitals.id, "acknowledged")
        assert f"SOS ref {leader.json()['ref']}" in ack["detail"]
        assert len(_transitions(server, gas.id, "acknowledged")) == 1  # taken once, by its own ack

        first = client.post(f"/api/alerts/{gas.id}/resolve", json={"outcome": "false_alarm", "note": "cooking"})
        assert first.status_code == 200
        done = client.post(f"/api/alerts/{sos.id}/resolve", json={"outcome": "real_emergency", "note": "fell"})
        assert done.status_code == 200, done.text

    closed = _detail(server, vitals.id)
    assert (closed["status"], closed["outcome"], closed["resolved_by"]) == ("resolved", "real_emergency", "admin")
    assert _detail(server, gas.id)["outcome"] == "false_alarm"  # already closed: kept its own outcome


def test_a_bare_reply_accepts_the_leader_and_with_it_the_group(
    start_server: Callable[..., ServerThread],
    storm_settings: ServerSettings,
    new_alert: Callable[..., Alert],
) -> None:
    """Guards "1" answered after a follow-up arrived: it accepts the emergency (the leader), not just the
    latest grouped alert, so the ladder stops."""
    server = start_server(storm_settings)
    _register(server, "h0003")
    fall, smoke = _typed(new_alert, AlertType.FALL), _typed(new_alert, AlertType.SMOKE)
    _ingest(server, fall)
    _ingest(server, smoke)

    with server.app.state.sessions() as session:
        taken = acknowledge_by_phone(session=session, phone=RESPONDERS[0], ref=None, channel="sms")

    assert taken is not None and taken.id == fall.id
    assert _detail(server, smoke.id)["acknowledged_by"] == "responder:1"
    assert [s.state for s in _steps(server, fall.id)] == ["sent", "cancelled"]


@pytest.mark.postgres
def test_a_more_severe_alert_takes_the_lead_and_stops_the_old_ladder(
    start_server: Callable[..., ServerThread],
    storm_settings: ServerSettings,
    new_alert: Callable[..., Alert],
    outbox_stream: io.StringIO,
    wait_until: Callable[..., Any],
) -> None:
    """Guards a fall during a welfare check: FALL climbs its own fast ladder, INACTIVITY joins it and its
    slow ladder stops instead of calling people about the same home for ten more minutes."""
    server = start_server(storm_settings)
    _register(server, "h0003")
    with server.app.state.sessions() as session:
        visitor = ResponderRow(name="visitor", phone=VISITOR, community="visitors", on_duty=True)
        session.add(visitor)
        session.flush()
        session.add(VisitorAssignmentRow(home="h0003", responder_id=visitor.id))
        session.commit()
        visitor_key = f"responder:{visitor.id}"
    inactivity, fall = _typed(new_alert, AlertType.INACTIVITY), _typed(new_alert, AlertType.FALL)
    _ingest(server, inactivity)
    assert [n["recipient"] for n in _notes(server, inactivity.id)] == [visitor_key]  # the welfare check

    _ingest(server, fall)

    lead, joined = _detail(server, fall.id), _detail(server, inactivity.id)
    assert (lead["group_id"], [m["id"] for m in lead["members"]]) == (None, [inactivity.id])
    assert joined["group_id"] == fall.id
    [stopped] = _transitions(server, inactivity.id, "ladder_stopped")
    assert f"FALL ref {lead['ref']}" in stopped["detail"] and "1 pending step cancelled" in stopped["detail"]
    assert "cancelled" in [s.state for s in _steps(server, inactivity.id)]
    assert not [s for s in _steps(server, inactivity.id) if s.state == "pending"]
    assert lead["ladder"]["rule"] == "critical"
    fall_notes = _notes(server, fall.id)
    assert [(n["recipient"], n["channel"], n["step"]) for n in fall_notes] == [
        ("responder:1", "sms", 0), ("responder:1", "voice", 0),
        (visitor_key, "sms", None),  # the visitor on the way hears it is a fall now, once
    ]
    wait_until(lambda: len(_notes(server, fall.id)) == 5, timeout_s=6.0, message="FALL's second step not sent")
    assert len(_notes(server, inactivity.id)) == 1  # its ladder never went on
    wait_until(lambda: len(_outbox(outbox_stream)) >= 6, message="not everything sent")
    lines = _outbox(outbox_stream)
    [told] = [line for line in lines if f"SMS to {VISITOR}" in line and "HomeSafe also:" in line]
    assert f"FALL at home h0003, ref {lead['ref']} (with INACTIVITY ref {joined['ref']})" in told
    [second] = [line for line in lines if f"SMS to {RESPONDERS[1]}" in line]
    assert "FALL (also INACTIVITY)" in second


def test_device_health_during_an_sos_storm_is_not_grouped_with_it_but_groups_with_its_kind(
    start_server: Callable[..., ServerThread],
    storm_settings: ServerSettings,
    new_alert: Callable[..., Alert],
) -> None:
    """Guards the maintenance queue: a tamper or flat battery is neither silenced by an SOS nor told to
    the responder running to it; two device alerts of one home are one maintenance job."""
    server = start_server(storm_settings)
    _register(server, "h0003")
    sos, battery, tamper = (_typed(new_alert, t) for t in (AlertType.SOS, AlertType.BATTERY_LOW, AlertType.TAMPER))

    _ingest(server, sos, battery, tamper)

    assert [m["id"] for m in _detail(server, sos.id)["members"]] == []
    device = _detail(server, battery.id)
    assert (device["group_id"], device["ladder"]["rule"]) == (None, "maintenance")
    assert [m["id"] for m in device["members"]] == [tamper.id]
    assert _notes(server, tamper.id) == [] or {n["recipient"] for n in _notes(server, tamper.id)} == {"maintenance"}
    assert not [n for n in _notes(server, battery.id) if n["recipient"] and n["recipient"].startswith("responder")]


def test_alerts_of_another_home_and_after_the_window_start_their_own_ladders(
    start_server: Callable[..., ServerThread],
    storm_settings: ServerSettings,
    new_alert: Callable[..., Alert],
) -> None:
    """Guards against grouping what is not one emergency: a neighbour's alert, or the same home's alert
    long after the first one (by event time: a gateway replaying its spool late groups nothing wrongly)."""
    server = start_server(storm_settings)
    _register(server, "h0003", "h0004")
    window_s = 15 * 60 * SCALE
    early = _typed(new_alert, AlertType.SOS, ts=time.time() - window_s - 5)
    neighbour = _typed(new_alert, AlertType.GAS, home="h0004")
    later = _typed(new_alert, AlertType.GAS)

    _ingest(server, early, neighbour, later)

    for alert in (early, neighbour, later):
        detail = _detail(server, alert.id)
        assert (detail["group_id"], detail["members"]) == (None, [])
        assert detail["ladder"]["rule"] == "critical"
        assert {(n["recipient"], n["step"]) for n in _notes(server, alert.id)} == {("responder:1", 0)}


def test_follow_ups_per_group_are_capped(
    start_server: Callable[..., ServerThread],
    storm_settings: ServerSettings,
    new_alert: Callable[..., Alert],
    tmp_path: Path,
) -> None:
    """Guards the responder's phone in a long storm: past the policy's `storm.followups`, members join silently."""
    server = start_server(replace(storm_settings, escalation_policy=_policy_file(tmp_path, followups=1)))
    _register(server, "h0003")
    types = (AlertType.SMOKE, AlertType.GAS, AlertType.HOME_OFFLINE, AlertType.WATER)
    alerts = [_typed(new_alert, t) for t in types]

    _ingest(server, *alerts)

    assert [len(_notes(server, a.id)) for a in alerts[1:]] == [1, 0, 0]
    [silent] = _transitions(server, alerts[2].id, "grouped")
    assert "not announced: 1 follow-ups already sent" in silent["detail"]


@pytest.mark.postgres
def test_restart_mid_storm_sends_nothing_twice_and_keeps_the_group(
    start_server: Callable[..., ServerThread],
    storm_settings: ServerSettings,
    new_alert: Callable[..., Alert],
    outbox_stream: io.StringIO,
    wait_until: Callable[..., Any],
) -> None:
    """Guards restart safety: the group, the follow-ups and the ladder are rows; a server started again on
    the same database resumes the ladder, groups the next alert, and sends nothing twice."""
    server = start_server(storm_settings)
    _register(server, "h0003")
    smoke, gas, inactivity = (_typed(new_alert, t) for t in (AlertType.SMOKE, AlertType.GAS, AlertType.INACTIVITY))
    _ingest(server, smoke, gas)
    wait_until(lambda: len(_outbox(outbox_stream)) == 3, message="first step and follow-up not sent")

    server.stop()
    server.start()
    assert _ingest(server, gas, inactivity) == {"accepted": 1, "duplicates": 1}
    wait_until(lambda: len(_notes(server, smoke.id)) == 4, timeout_s=6.0, message="ladder did not resume")
    wait_until(lambda: len(_outbox(outbox_stream)) >= 6, message="not everything sent")
    assert [m["id"] for m in _detail(server, smoke.id)["members"]] == [gas.id, inactivity.id]
    server.stop()  # nothing more goes out: the outbox and the table can be compared

    lines = _outbox(outbox_stream)
    assert len(lines) == len(set(lines))
    with server.app.state.sessions() as session:
        rows = session.scalars(select(NotificationRow).where(NotificationRow.status == "sent")).all()
    assert len(rows) == len(lines)
    assert all(row.attempts == 1 for row in rows)
    assert Counter((row.alert_id, row.recipient) for row in rows if row.step is None) == {
        (gas.id, "responder:1"): 1, (inactivity.id, "responder:1"): 1,
    }


def test_storm_settings_are_validated_naming_the_field() -> None:
    """Guards an operator editing the policy: a bad storm setting is refused at start-up, saying where."""
    document = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    for change, field in (
        ({"window": "soon"}, "storm.window"),
        ({"followups": -1}, "storm.followups"),
        ({"windw": "5m"}, "storm.windw"),
    ):
        bad = {**document, "storm": change}
        with pytest.raises(PolicyError) as caught:
            parse_policy(bad)
        assert caught.value.field == field
    policy = parse_policy({**document, "storm": {"window": "5m", "followups": 0}})
    assert (policy.storm_window_s, policy.storm_followups) == (300.0, 0)


@pytest.mark.postgres
def test_different_alerts_of_one_home_racing_end_in_one_group_with_one_ladder(
    db_url: str, new_alert: Callable[..., Alert]
) -> None:
    """Guards parallel ingest requests in a storm: the grouping decisions about one home are made one at a
    time (SQLite's write lock, PostgreSQL's advisory lock), so two alerts never both start a ladder."""
    engine = make_engine(db_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        session.add(HomeRow(id="h0003", community="east"))
        session.add_all(ResponderRow(name=f"r{i}", phone=phone, community="east") for i, phone in enumerate(RESPONDERS))
        session.commit()
    config = EscalationConfig(numbers=ServiceNumbers(operator=OPERATOR))
    types = (AlertType.INACTIVITY, AlertType.SMOKE, AlertType.GAS, AlertType.FALL)
    alerts = [_typed(new_alert, t) for t in types]
    barrier = threading.Barrier(len(alerts))

    def ingest(alert: Alert) -> None:
        with sessions() as session:
            barrier.wait()
            ingest_alert(session=session, alert=alert, escalation=config)

    threads = [threading.Thread(target=ingest, args=(alert,)) for alert in alerts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30.0)

    with sessions() as session:
        rows = session.scalars(select(AlertRow)).all()
        pending = session.scalars(select(EscalationStepRow.alert_id).where(EscalationStepRow.state == "pending")).all()
    engine.dispose()
    [leader] = [row for row in rows if row.group_id is None]
    assert leader.severity == "critical"
    assert sorted(row.group_id or "" for row in rows) == ["", leader.id, leader.id, leader.id]
    assert set(pending) == {leader.id}
