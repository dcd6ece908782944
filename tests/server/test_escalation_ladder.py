"""Escalation ladders step by step (server/escalation/ladder.py, scheduler.py, recipients.py) on a real
SQLite file, with a clock the tests move: who is reached, when, and never twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.protocol import Alert, AlertType, Severity
from server.crud.alerts import ingest_alert
from server.crud.lifecycle import acknowledge, acknowledge_by_phone
from server.crud.registry import add_responder, upsert_home
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import (
    AlertRow,
    AlertTransitionRow,
    ContactRow,
    EscalationStepRow,
    NotificationRow,
    ResponderRow,
    VisitorAssignmentRow,
)
from server.escalation import EscalationConfig
from server.escalation.recipients import ServiceNumbers
from server.escalation.scheduler import EscalationScheduler

OPERATOR = "+8610000000000"
MAINTENANCE = "+8610000000099"
RESPONDERS = ("+8613800000001", "+8613800000002")
VISITOR = "+8613700000001"
CONTACTS = ("+8613900000001", "+8613900000002")
DAY = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
NIGHT = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai: inside the default quiet hours


class Clock:
    """The scheduler's "now", moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    create_schema(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def config() -> EscalationConfig:
    return EscalationConfig(numbers=ServiceNumbers(operator=OPERATOR, maintenance=MAINTENANCE))


def _register(
    sessions: sessionmaker[Session],
    home: str = "h0003",
    *,
    responders: tuple[str, ...] = RESPONDERS,
    contacts: tuple[str, ...] = CONTACTS,
    visitor: bool = True,
) -> None:
    with sessions() as session:
        upsert_home(session=session, home_id=home, community="east")
        existing = set(session.scalars(select(ResponderRow.phone)).all())
        for index, phone in enumerate(responders):
            if phone not in existing:
                add_responder(session=session, name=f"responder {index}", phone=phone, community="east")
        if visitor:
            # Another community: an assigned visitor is not one of this community's on-duty responders.
            row = session.scalar(select(ResponderRow).where(ResponderRow.phone == VISITOR))
            if row is None:
                row = add_responder(session=session, name="visitor", phone=VISITOR, community="visitors")
            session.add(VisitorAssignmentRow(home=home, responder_id=row.id))
        for order, phone in enumerate(contacts):
            session.add(ContactRow(home=home, name=f"family {order}", phone=phone, relation="child", order=order))
        session.commit()


def _alert(new_alert: Callable[..., Alert], alert_type: AlertType, **fields: Any) -> Alert:
    severity = {
        AlertType.SOS: Severity.CRITICAL,
        AlertType.INACTIVITY: Severity.HIGH,
        AlertType.BATTERY_LOW: Severity.MAINTENANCE,
    }[alert_type]
    return new_alert(type=alert_type, severity=severity, **fields)


def _notifications(sessions: sessionmaker[Session], alert_id: str | None = None) -> list[NotificationRow]:
    with sessions() as session:
        query = select(NotificationRow).order_by(NotificationRow.id)
        if alert_id is not None:
            query = query.where(NotificationRow.alert_id == alert_id)
        return list(session.scalars(query).all())


def _sent(sessions: sessionmaker[Session], alert_id: str) -> list[tuple[int | None, str, str]]:
    return [(n.step, n.to, n.channel) for n in _notifications(sessions, alert_id)]


def _transitions(sessions: sessionmaker[Session], alert_id: str, kind: str | None = None) -> list[AlertTransitionRow]:
    with sessions() as session:
        query = select(AlertTransitionRow).where(AlertTransitionRow.alert_id == alert_id)
        if kind is not None:
            query = query.where(AlertTransitionRow.kind == kind)
        return list(session.scalars(query.order_by(AlertTransitionRow.id)).all())


def _ingest(sessions: sessionmaker[Session], config: EscalationConfig, alert: Alert, now: datetime) -> AlertRow:
    with sessions() as session:
        row = ingest_alert(session=session, alert=alert, escalation=config, now=now)
    assert row is not None
    return row


def test_maintenance_alert_reaches_the_maintenance_queue_never_a_family(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards against a flat battery waking a resident's daughter: maintenance never goes to family."""
    _register(sessions)
    clock = Clock(DAY)
    scheduler = EscalationScheduler(sessions=sessions, config=config, clock=clock)

    alert = _ingest(sessions, config, _alert(new_alert, AlertType.BATTERY_LOW), clock.now)
    assert _sent(sessions, alert.id) == [(0, MAINTENANCE, "sms")]
    clock.advance(24 * 3600)
    scheduler.run_once()
    clock.advance(7 * 24 * 3600)
    scheduler.run_once()

    assert _sent(sessions, alert.id) == [(0, MAINTENANCE, "sms"), (1, OPERATOR, "sms")]
    assert not {n.to for n in _notifications(sessions)} & {*CONTACTS, *RESPONDERS, VISITOR}


def test_high_alert_goes_to_the_assigned_visitor_first_then_climbs(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards the visiting duty: a welfare check starts with the visitor, then the responder, then family."""
    _register(sessions)
    clock = Clock(DAY)
    scheduler = EscalationScheduler(sessions=sessions, config=config, clock=clock)

    alert = _ingest(sessions, config, _alert(new_alert, AlertType.INACTIVITY), clock.now)
    assert _sent(sessions, alert.id) == [(0, VISITOR, "sms")]
    clock.advance(9 * 60)
    scheduler.run_once()
    assert _sent(sessions, alert.id) == [(0, VISITOR, "sms")]  # the wait is not over yet
    clock.advance(60)
    scheduler.run_once()
    clock.advance(10 * 60)
    scheduler.run_once()

    assert _sent(sessions, alert.id) == [(0, VISITOR, "sms"), (1, RESPONDERS[0], "sms"), (2, CONTACTS[0], "sms")]


def test_quiet_hours_never_delay_a_critical_alert_but_hold_maintenance_until_morning(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards against a night-time SOS waiting for 07:00, and against maintenance texts at midnight."""
    _register(sessions)
    clock = Clock(NIGHT)
    scheduler = EscalationScheduler(sessions=sessions, config=config, clock=clock)

    sos = _ingest(sessions, config, _alert(new_alert, AlertType.SOS), clock.now)
    battery = _ingest(sessions, config, _alert(new_alert, AlertType.BATTERY_LOW), clock.now)

    assert _sent(sessions, sos.id) == [(0, RESPONDERS[0], "sms"), (0, RESPONDERS[0], "voice")]
    assert all(n.not_before is None and n.created_at == NIGHT for n in _notifications(sessions, sos.id))
    assert _sent(sessions, battery.id) == []
    [deferred] = _transitions(sessions, battery.id, "step_deferred")
    assert "quiet hours until 2026-11-25T07:00+08:00" in (deferred.detail or "")
    clock.now = datetime(2026, 11, 24, 22, 59, tzinfo=UTC)
    scheduler.run_once()
    assert _sent(sessions, battery.id) == []
    clock.now = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai
    scheduler.run_once()
    assert _sent(sessions, battery.id) == [(0, MAINTENANCE, "sms")]


def test_ladder_ends_with_one_operator_notice_and_never_repeats(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards against a ladder that repeats forever (or ends silently): one final notice, then nothing."""
    _register(sessions, visitor=False)
    clock = Clock(DAY)
    scheduler = EscalationScheduler(sessions=sessions, config=config, clock=clock)

    alert = _ingest(sessions, config, _alert(new_alert, AlertType.SOS), clock.now)
    for _ in range(20):
        clock.advance(60)
        scheduler.run_once()

    both = ("sms", "voice")
    assert _sent(sessions, alert.id) == [
        *((0, RESPONDERS[0], channel) for channel in both),
        *((1, RESPONDERS[1], channel) for channel in both),
        *((2, CONTACTS[0], channel) for channel in both),
        *((3, CONTACTS[1], channel) for channel in both),
        (4, OPERATOR, "voice"),
        (5, OPERATOR, "sms"),  # the end notice
    ]
    assert len(_transitions(sessions, alert.id, "ladder_ended")) == 1
    with sessions() as session:
        steps = session.scalars(select(EscalationStepRow).where(EscalationStepRow.alert_id == alert.id)).all()
    assert sorted((s.step_index, s.state) for s in steps) == [(i, "sent") for i in range(6)]
    # Every message to one number differs (providers and phones fold identical ones) and quotes the ref.
    for phone in {n.to for n in _notifications(sessions)}:
        bodies = [n.body for n in _notifications(sessions) if n.to == phone]
        assert len(set(bodies)) == len(bodies)
        assert all(alert.ref in body.replace(" ", "") for body in bodies)
    end = _notifications(sessions, alert.id)[-1].body
    assert end.startswith("HomeSafe ESCALATION ENDED") and f"Reply 1 to accept, ref {alert.ref}" in end


def test_step_with_nobody_to_reach_is_skipped_and_logged_not_the_end(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards against a missing second responder or family silently ending the ladder."""
    _register(sessions, responders=RESPONDERS[:1], contacts=(), visitor=False)
    clock = Clock(DAY)
    scheduler = EscalationScheduler(sessions=sessions, config=config, clock=clock)
    alert = _ingest(sessions, config, _alert(new_alert, AlertType.SOS), clock.now)

    clock.advance(60)
    scheduler.run_once()

    assert _sent(sessions, alert.id)[2:] == [(4, OPERATOR, "voice")]  # steps 2-4 reached at the same instant
    skipped = _transitions(sessions, alert.id, "step_skipped")
    assert [t.step for t in skipped] == [1, 2, 3]
    assert "nobody to reach as next_responder" in (skipped[0].detail or "")


def test_unregistered_home_still_reaches_the_operator_at_once(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards "no alert is lost": a home missing from the registry falls through to the service centre."""
    alert = _ingest(sessions, config, _alert(new_alert, AlertType.SOS, home="h9999"), DAY)

    assert _sent(sessions, alert.id) == [(4, OPERATOR, "voice")]


def test_storm_to_one_number_is_capped_per_minute_and_nothing_dropped(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards a responder's phone in a storm: at most 6 messages a minute, the rest deferred, none lost."""
    homes = [f"h{i:04d}" for i in range(10)]
    for home in homes:
        _register(sessions, home, responders=RESPONDERS[:1], contacts=(), visitor=False)

    for home in homes:
        _ingest(sessions, config, _alert(new_alert, AlertType.SOS, home=home), DAY)

    rows = [n for n in _notifications(sessions) if n.to == RESPONDERS[0]]
    assert len(rows) == 20
    planned = sorted(n.not_before or n.created_at for n in rows)
    assert sum(1 for t in planned if t == DAY) == 6
    for start in planned:
        assert sum(1 for t in planned if start <= t < start + timedelta(minutes=1)) <= 6


def test_two_schedulers_on_one_database_fire_each_step_once(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards the claim: two servers sweeping the same due steps never send a step twice."""
    homes = [f"h{i:04d}" for i in range(30)]
    for home in homes:
        _register(sessions, home, responders=RESPONDERS, contacts=(), visitor=False)
    relaxed = EscalationConfig(numbers=config.numbers, policy=config.policy)
    for home in homes:
        _ingest(sessions, relaxed, _alert(new_alert, AlertType.SOS, home=home), DAY)
    clock = Clock(DAY + timedelta(seconds=61))
    schedulers = [EscalationScheduler(sessions=sessions, config=relaxed, clock=clock, batch_size=100) for _ in "ab"]
    barrier = threading.Barrier(2)
    fired: list[int] = []

    def sweep(scheduler: EscalationScheduler) -> None:
        barrier.wait()
        fired.append(scheduler.run_once()[0])

    threads = [threading.Thread(target=sweep, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30.0)

    assert sum(fired) == 30
    counts = Counter((n.alert_id, n.step, n.channel) for n in _notifications(sessions))
    assert set(counts.values()) == {1}
    assert sum(1 for (_alert_id, step, _channel) in counts if step == 1) == 60


def test_same_type_alerts_racing_for_one_home_open_one_alert_and_one_ladder(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards a storm of presses arriving on parallel requests: one alert counting them, one ladder."""
    _register(sessions)
    alerts = [_alert(new_alert, AlertType.SOS) for _ in range(4)]
    barrier = threading.Barrier(4)

    def ingest(alert: Alert) -> None:
        with sessions() as session:
            barrier.wait()
            ingest_alert(session=session, alert=alert, escalation=config, now=DAY)

    threads = [threading.Thread(target=ingest, args=(alert,)) for alert in alerts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30.0)

    with sessions() as session:
        [row] = session.scalars(select(AlertRow)).all()
        steps = session.scalars(select(EscalationStepRow.step_index)).all()
    assert row.count == 4
    assert sorted(steps) == [0, 1]
    assert len(_notifications(sessions)) == 2
    assert len(row.evidence["_merged"]) == 3


def test_reply_from_a_phone_acknowledges_the_alert_it_was_told_about(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards replies: "1" takes the newest waiting alert, "1 <ref>" that one, a stranger's reply nothing."""
    for home in ("h0001", "h0002"):
        _register(sessions, home, contacts=(), visitor=False)
    older = _ingest(sessions, config, _alert(new_alert, AlertType.SOS, home="h0001"), DAY)
    newer = _ingest(sessions, config, _alert(new_alert, AlertType.SOS, home="h0002"), DAY + timedelta(seconds=5))

    with sessions() as session:
        assert acknowledge_by_phone(session=session, phone="+8613000000000", ref=None, channel="sms") is None
        assert acknowledge_by_phone(session=session, phone=RESPONDERS[0], ref="ZZZZZZ", channel="sms") is None
        first = acknowledge_by_phone(session=session, phone=RESPONDERS[0], ref=None, channel="sms")
        typed = older.ref.lower().replace("0", "o")  # as typed on a phone
        second = acknowledge_by_phone(session=session, phone=RESPONDERS[0], ref=f"ref {typed}", channel="sms")

    assert first is not None and second is not None
    assert (first.id, first.status, first.acknowledged_by) == (newer.id, "acknowledged", "responder:1")
    assert (second.id, second.ack_channel) == (older.id, "sms")


def test_acknowledging_twice_is_idempotent_and_a_second_person_is_recorded(
    sessions: sessionmaker[Session], config: EscalationConfig, new_alert: Callable[..., Alert]
) -> None:
    """Guards the audit: a repeated "1" adds nothing; someone else accepting too is on record, nothing more."""
    _register(sessions)
    alert = _ingest(sessions, config, _alert(new_alert, AlertType.SOS), DAY)

    with sessions() as session:
        for actor in ("responder:1", "responder:1", "contact:1"):
            row = acknowledge(session=session, alert_id=alert.id, actor=actor, channel="sms", now=DAY)

    assert (row.status, row.acknowledged_by) == ("acknowledged", "responder:1")
    assert [t.kind for t in _transitions(sessions, alert.id) if t.kind.startswith("ack")] == [
        "acknowledged",
        "ack_again",
    ]
    with sessions() as session:
        states = session.scalars(select(EscalationStepRow.state).where(EscalationStepRow.alert_id == alert.id)).all()
    assert sorted(states) == ["cancelled", "sent"]
