"""Storing alerts (server/crud/alerts.py) and what their notifications say (server/texts.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select

from gateway.protocol import Alert, AlertType, Severity
from server.crud.alerts import ingest_alert
from server.crud.registry import add_responder, upsert_home
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import AlertRow, NotificationRow
from server.texts import REF_ALPHABET, alert_ref, alert_sms


def test_concurrent_ingests_of_one_alert_store_it_once(db_url: str, new_alert: Callable[..., Alert]) -> None:
    """Guards the race of two requests carrying the same alert: one row, one set of notifications."""
    engine = make_engine(db_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    alerts = [new_alert(home=f"h{i:04d}") for i in range(20)]  # one home each: same-home alerts are merged
    with sessions() as session:
        for alert in alerts:
            upsert_home(session=session, home_id=alert.home, community="east")
        add_responder(session=session, name="Wang", phone="+8613800000001", community="east")
        add_responder(session=session, name="Li", phone="+8613800000002", community="east")
    winners: list[str] = []
    barrier = threading.Barrier(4)

    def ingest_all() -> None:
        with sessions() as session:
            for alert in alerts:
                barrier.wait()
                row = ingest_alert(session=session, alert=alert, operator_phone="op")
                if row is not None:
                    winners.append(row.id)

    threads = [threading.Thread(target=ingest_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30.0)

    assert sorted(winners) == sorted(alert.id for alert in alerts)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AlertRow)) == 20
        # The first step of each SOS ladder: the first on-duty responder, by SMS and by voice.
        assert session.scalar(select(func.count()).select_from(NotificationRow)) == 40
    engine.dispose()


def test_sms_body_is_short_and_carries_no_personal_data(new_alert: Callable[..., Alert]) -> None:
    """Guards what goes over SMS: type, home id, device, UTC time and the reference, nothing else."""
    alert = new_alert(
        id="gw1:h0003:evt-42",
        type=AlertType.BED_EXIT_NO_RETURN,
        severity=Severity.HIGH,
        ts=1_795_489_212.0,  # 2026-11-24T03:00:12Z
        evidence={"resident": "should never appear"},
    )

    ref = alert_ref(alert.id)

    body = alert_sms(alert, ref=ref)

    assert body == f"HomeSafe BED EXIT NO RETURN at home h0003 (device sos_button) 2026-11-24 03:00:12Z. Ref {ref}"
    assert len(body) <= 160  # one SMS segment


def test_reference_code_is_stable_and_easy_to_read_out() -> None:
    """Guards replies and phone calls quoting the code: same alert, same code; no I/L/O/U to mishear."""
    codes = {alert_ref(f"alert-{i}") for i in range(1000)}

    assert alert_ref("alert-1") == alert_ref("alert-1")
    assert all(len(code) == 6 and set(code) <= set(REF_ALPHABET) for code in codes)
    assert len(codes) == 1000
