"""Send rates (server/notifiers/ratelimit.py, the outbox's claim order, the per-number cap in
server/escalation/ladder.py): a real server and dispatcher, the console outbox on a stream that notes when
each line was written, and a rate limit in front of it, as the app puts one in front of Twilio."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.protocol import SEVERITY_OF, Alert, AlertType, encode
from server.config import ServerSettings
from server.crud.alerts import ingest_alert
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import AlertRow, HomeRow, NotificationRow, ResponderRow
from server.escalation import EscalationConfig, load_policy
from server.escalation.policy import DEFAULT_POLICY_PATH, PolicyError, parse_policy
from server.escalation.recipients import ServiceNumbers
from server.notifiers import ConsoleOutbox
from server.notifiers.ratelimit import RateLimitedNotifier, SendLimits
from server.run import ServerThread

EAST, WEST = "+8613800000001", "+8613800000002"
OPERATOR = "+8610000000000"
TOLERANCE_S = 0.03  # a line is written a moment after the limiter let it go


class TimedStream(io.StringIO):
    """The console outbox's stream, noting when each message line was written."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.times.append(time.monotonic())
            return super().write(text)

    def sent(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(zip(self.times, self.getvalue().splitlines(), strict=True))


def _policy_document(per_number: int = 50) -> dict[str, Any]:
    """The shipped policy with one SMS per alert (the first step only matters here) and a loose per-number cap."""
    document = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    document["rate_limit"]["per_number_per_minute"] = per_number
    document["rules"] = [
        {"name": severity, "match": {"severities": [severity]},
         "ladder": [{"who": "on_duty_responder" if severity != "maintenance" else "maintenance", "how": "sms",
                     "wait": "10m"}]}
        for severity in ("critical", "high", "maintenance")
    ]
    return document


@pytest.fixture
def policy_path(tmp_path: Path) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(_policy_document()), encoding="utf-8")
    return str(path)


@pytest.fixture
def timed() -> TimedStream:
    return TimedStream()


@pytest.fixture
def paced_server(
    start_server: Callable[..., ServerThread], settings: ServerSettings, policy_path: str, timed: TimedStream
) -> Callable[[SendLimits], ServerThread]:
    def start(limits: SendLimits) -> ServerThread:
        notifier = RateLimitedNotifier(ConsoleOutbox(timed), limits)
        return start_server(replace(settings, escalation_policy=policy_path, operator_phone=OPERATOR),
                            notifier=notifier)

    return start


def _register(server: ServerThread, community: str, phone: str, homes: list[str]) -> None:
    with server.app.state.sessions() as session:
        session.add_all(HomeRow(id=home, community=community) for home in homes)
        session.add(ResponderRow(name=f"on duty {community}", phone=phone, community=community, on_duty=True))
        session.commit()


def _alerts(new_alert: Callable[..., Alert], alert_type: AlertType, homes: list[str]) -> list[Alert]:
    return [new_alert(type=alert_type, severity=SEVERITY_OF[alert_type], home=home) for home in homes]


def _ingest(server: ServerThread, alerts: list[Alert]) -> None:
    httpx.post(f"{server.url}/api/ingest/alerts", content=encode(alerts), timeout=5.0).raise_for_status()


def _rows(server: ServerThread) -> list[NotificationRow]:
    with server.app.state.sessions() as session:
        return list(session.scalars(select(NotificationRow).order_by(NotificationRow.id)).all())


def _settled(server: ServerThread) -> list[NotificationRow]:
    rows = _rows(server)
    return rows if all(row.status != "pending" for row in rows) else []


def _within_bucket(times: list[float], rate: float, burst: float) -> bool:
    """Whether no stretch of sends beats the token bucket: n sends in t seconds <= burst + rate * t."""
    return all(
        later - earlier + 1 <= burst + rate * (times[later] - times[earlier] + TOLERANCE_S)
        for earlier in range(len(times)) for later in range(earlier + 1, len(times))
    )


def test_ten_messages_to_one_number_are_spread_at_the_senders_rate_and_all_sent(
    paced_server: Callable[[SendLimits], ServerThread],
    new_alert: Callable[..., Alert],
    timed: TimedStream,
    wait_until: Callable[..., Any],
) -> None:
    """Guards the provider's limit per sending number (Twilio long code: 1 a second): the outbox paces
    itself, a message held back waits in the table, and nothing is dropped or counted as a failed try."""
    server = paced_server(SendLimits(sms_per_s=5.0, calls_per_s=5.0, burst=1.0))
    homes = [f"h{i:04d}" for i in range(10, 20)]
    _register(server, "east", EAST, homes)

    _ingest(server, _alerts(new_alert, AlertType.SOS, homes))

    wait_until(lambda: len(timed.sent()) == 10, timeout_s=8.0, message="not all 10 sent")
    times = [at for at, _line in timed.sent()]
    assert _within_bucket(times, rate=5.0, burst=1.0)
    assert times[-1] - times[0] >= 9 / 5.0 - TOLERANCE_S
    rows = wait_until(lambda: _settled(server), message="rows not settled")
    assert [(row.status, row.attempts) for row in rows] == [("sent", 1)] * 10  # held back is not an attempt
    assert {line.split(":", 1)[0] for _at, line in timed.sent()} == {f"[outbox] SMS to {EAST}"}


def test_the_per_destination_cap_holds_each_number_without_slowing_the_others(
    paced_server: Callable[[SendLimits], ServerThread],
    new_alert: Callable[..., Alert],
    timed: TimedStream,
    wait_until: Callable[..., Any],
) -> None:
    """Guards a provider's cap per receiving phone: each number gets its messages at that pace, and a
    number with a queue does not hold back the first message to another one."""
    server = paced_server(SendLimits(sms_per_s=100.0, burst=10.0, per_destination_per_s=4.0, destination_burst=1.0))
    east, west = [f"h{i:04d}" for i in range(20, 26)], [f"h{i:04d}" for i in range(30, 36)]
    _register(server, "east", EAST, east)
    _register(server, "west", WEST, west)

    _ingest(server, [*_alerts(new_alert, AlertType.SOS, east), *_alerts(new_alert, AlertType.SOS, west)])

    wait_until(lambda: len(timed.sent()) == 12, timeout_s=8.0, message="not all 12 sent")
    by_number = {phone: [at for at, line in timed.sent() if f"to {phone}:" in line] for phone in (EAST, WEST)}
    for times in by_number.values():
        assert len(times) == 6
        assert _within_bucket(times, rate=4.0, burst=1.0)
    # Not one queue for both: some messages to the two numbers went closer together than 4 a second allows.
    times = [at for at, _line in timed.sent()]
    assert min(later - earlier for earlier, later in pairwise(times)) < 0.2
    assert all(row.status == "sent" for row in wait_until(lambda: _settled(server), message="rows not settled"))


def test_critical_alerts_take_the_next_free_slot_ahead_of_waiting_ones(
    paced_server: Callable[[SendLimits], ServerThread],
    new_alert: Callable[..., Alert],
    timed: TimedStream,
    wait_until: Callable[..., Any],
) -> None:
    """Guards an SOS arriving while the sender is busy with welfare checks: it goes next, not last."""
    server = paced_server(SendLimits(sms_per_s=2.0, burst=1.0))
    slow, urgent = [f"h{i:04d}" for i in range(40, 45)], [f"h{i:04d}" for i in range(50, 55)]
    _register(server, "east", EAST, [*slow, *urgent])

    _ingest(server, _alerts(new_alert, AlertType.INACTIVITY, slow))
    wait_until(lambda: len(timed.sent()) >= 1, timeout_s=3.0, message="first message not sent")
    _ingest(server, _alerts(new_alert, AlertType.SOS, urgent))

    wait_until(lambda: len(timed.sent()) == 10, timeout_s=10.0, message="not all 10 sent")
    kinds = ["SOS" if "HomeSafe SOS" in line else "INACTIVITY" for _at, line in timed.sent()]
    first_sos = kinds.index("SOS")
    assert first_sos <= 2  # what went before the SOS batch existed
    assert kinds[first_sos:first_sos + 5] == ["SOS"] * 5
    assert kinds.count("INACTIVITY") == 5
    assert all(row.status == "sent" for row in wait_until(lambda: _settled(server), message="rows not settled"))


# The per-number cap is planned when messages are created: on a real SQLite file, at a fixed instant.
DAY = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    create_schema(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_per_number_cap_lets_a_critical_message_ahead_of_planned_less_urgent_ones(
    sessions: sessionmaker[Session], new_alert: Callable[..., Alert], tmp_path: Path
) -> None:
    """Guards an SOS in a storm of welfare checks to one responder: it takes the next minute's first slot,
    a planned welfare text moves one minute on, the cap still holds and nothing is dropped."""
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(_policy_document(per_number=6)), encoding="utf-8")
    config = EscalationConfig(numbers=ServiceNumbers(operator=OPERATOR), policy=load_policy(path))
    homes = [f"h{i:04d}" for i in range(13)]
    with sessions() as session:
        session.add_all(HomeRow(id=home, community="east") for home in homes)
        session.add(ResponderRow(name="on duty", phone=EAST, community="east", on_duty=True))
        session.commit()
        for alert in _alerts(new_alert, AlertType.INACTIVITY, homes[:12]):
            ingest_alert(session=session, alert=alert, escalation=config, now=DAY)
        [sos] = _alerts(new_alert, AlertType.SOS, homes[12:])
        ingest_alert(session=session, alert=sos, escalation=config, now=DAY + timedelta(seconds=1))
        rows = session.execute(
            select(NotificationRow.not_before, NotificationRow.created_at, AlertRow.type)
            .join(AlertRow, AlertRow.id == NotificationRow.alert_id)
            .order_by(NotificationRow.id)
        ).all()

    planned = sorted(((not_before or created_at), kind) for not_before, created_at, kind in rows)
    assert len(planned) == 13
    minute = timedelta(minutes=1)
    assert [t for t, kind in planned if kind == "SOS"] == [DAY + minute]
    assert [t for t, _kind in planned].count(DAY + 2 * minute) == 1  # the welfare text it overtook
    for start, _kind in planned:
        assert sum(1 for t, _k in planned if start <= t < start + minute) <= 6


def test_provider_rates_are_validated_naming_the_field() -> None:
    """Guards an operator setting the provider's rates: a bad one is refused at start-up, saying where."""
    document = _policy_document()
    document["rate_limit"]["provider"] = {"sms_per_second": 0}
    with pytest.raises(PolicyError) as caught:
        parse_policy(document)
    assert caught.value.field == "rate_limit.provider.sms_per_second"
    document["rate_limit"]["provider"] = {"sms_per_second": 30, "per_destination_per_minute": None, "burst": 5}
    limits = parse_policy(document).send_limits
    assert (limits.sms_per_s, limits.per_destination_per_s, limits.burst) == (30.0, None, 5.0)
