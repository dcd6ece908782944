"""Logging welfare visits through the API: who may log which visit, what is refused and why, what is kept.

A real server, real HTTP, a real SQLite file. The registry (homes, residents, responders, assignments)
is written straight into the test database with SQLAlchemy (`Registry`), so these tests depend on no
registry route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import (
    AuditRow,
    HomeRow,
    ResidentRow,
    ResponderRow,
    VisitorAssignmentRow,
    VisitRow,
)
from server.run import ServerThread

REGISTERED = datetime(2024, 1, 1, tzinfo=UTC)  # residents' default registration: before every month tested
NOTES = "all well, fridge full, knee still hurts"  # may hold personal data: must never reach a log


class Registry:
    """Rows written straight into a test database: the registry a test needs, and what the server stored."""

    def __init__(self, db_url: str) -> None:
        self.engine = make_engine(db_url)
        create_schema(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self._phones = iter(range(10_000_000, 99_999_999))

    def close(self) -> None:
        self.engine.dispose()

    def _add(self, row: Any) -> Any:
        with self.sessions() as session:
            session.add(row)
            session.commit()
            return row

    def home(self, home_id: str, community: str) -> str:
        self._add(HomeRow(id=home_id, community=community))
        return home_id

    def resident(self, home: str, category: str = "special_difficulty", *, created_at: datetime = REGISTERED) -> int:
        row = self._add(ResidentRow(home=home, name=f"resident of {home}", category=category, created_at=created_at))
        return int(row.id)

    def responder(self, community: str, *, phone: str | None = None, name: str = "visitor") -> int:
        phone = phone or f"+86138{next(self._phones)}"
        return int(self._add(ResponderRow(name=name, phone=phone, community=community)).id)

    def assign(self, home: str, responder_id: int) -> None:
        self._add(VisitorAssignmentRow(home=home, responder_id=responder_id))

    def visit(self, home: str, at: datetime, responder_id: int | None = None) -> int:
        row = VisitRow(
            home=home, responder_id=responder_id, at=at, channel="api", logged_at=at, logged_by="test", notes=None
        )
        return int(self._add(row).id)

    def visits(self) -> list[VisitRow]:
        with self.sessions() as session:
            return list(session.scalars(select(VisitRow).order_by(VisitRow.id)))

    def audit(self, entity: str = "visits") -> list[AuditRow]:
        with self.sessions() as session:
            return list(session.scalars(select(AuditRow).where(AuditRow.entity == entity).order_by(AuditRow.id)))


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    reg = Registry(db_url)
    yield reg
    reg.close()


@pytest.fixture
def as_token(server: ServerThread) -> Iterator[Callable[[str], httpx.Client]]:
    """HTTP clients for `server` sending a given bearer token."""
    clients: list[httpx.Client] = []

    def open_client(token: str) -> httpx.Client:
        http = httpx.Client(base_url=server.url, timeout=5.0, headers={"Authorization": f"Bearer {token}"})
        clients.append(http)
        return http

    yield open_client
    for http in clients:
        http.close()


def _field_errors(response: httpx.Response) -> list[str]:
    """The field names a 422 points at (the last part of each error's `loc`)."""
    assert response.status_code == 422, response.text
    return [str(error["loc"][-1]) for error in response.json()["detail"]]


@pytest.mark.postgres
def test_responder_logs_a_visit_to_a_home_of_their_community(
    server: ServerThread,
    registry: Registry,
    make_token: Callable[..., str],
    as_token: Callable[[str], httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Guards the visitor's own path: a visit is stored as theirs, channel api, audited without its notes."""
    registry.home("h0042", "c1")
    visitor = registry.responder("c1")
    http = as_token(make_token("responder", responder_id=visitor))
    at = datetime.now(UTC) - timedelta(hours=2)

    with caplog.at_level(logging.DEBUG):
        response = http.post("/api/visits", json={"home": "h0042", "at": at.isoformat(), "notes": NOTES})

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["home"], body["responder_id"], body["channel"], body["notes"]) == ("h0042", visitor, "api", NOTES)
    assert body["logged_by"] == f"responder:{visitor}"
    assert datetime.fromisoformat(body["at"]) == at
    assert [row["id"] for row in http.get("/api/visits").json()] == [body["id"]]
    [audit] = registry.audit()
    assert (audit.actor, audit.action, audit.entity_id) == (f"responder:{visitor}", "create", str(body["id"]))
    assert "notes" in audit.detail["fields"]
    assert NOTES not in str(audit.detail)
    assert f"visit {body['id']} to home h0042 logged by responder:{visitor}" in caplog.text  # the log is read
    assert NOTES not in caplog.text


def test_visit_time_defaults_to_now(
    server: ServerThread, registry: Registry, make_token: Callable[..., str], as_token: Callable[[str], httpx.Client]
) -> None:
    """Guards the quick check-in: no `at` means the visit is happening now."""
    registry.home("h0042", "c1")
    visitor = registry.responder("c1")
    before = datetime.now(UTC)

    response = as_token(make_token("responder", responder_id=visitor)).post("/api/visits", json={"home": "h0042"})

    assert response.status_code == 201, response.text
    assert before <= datetime.fromisoformat(response.json()["at"]) <= datetime.now(UTC)


def test_responder_of_another_community_is_refused_and_nothing_is_stored(
    server: ServerThread, registry: Registry, make_token: Callable[..., str], as_token: Callable[[str], httpx.Client]
) -> None:
    """Guards community scope: a visitor of c2 cannot log (or invent) visits to a home of c1."""
    registry.home("h0042", "c1")
    stranger = registry.responder("c2")

    response = as_token(make_token("responder", responder_id=stranger)).post(
        "/api/visits", json={"home": "h0042", "notes": "was here"}
    )

    assert response.status_code == 403
    assert "outside your communities" in response.json()["detail"]
    assert registry.visits() == []
    assert registry.audit() == []


def test_assigned_visitor_from_another_community_may_log_a_visit(
    server: ServerThread, registry: Registry, make_token: Callable[..., str], as_token: Callable[[str], httpx.Client]
) -> None:
    """Guards assignments across community lines: the visitor assigned to a home can always log visits to it."""
    registry.home("h0042", "c1")
    visitor = registry.responder("c2")
    registry.assign("h0042", visitor)

    response = as_token(make_token("responder", responder_id=visitor)).post("/api/visits", json={"home": "h0042"})

    assert response.status_code == 201, response.text
    assert [(v.home, v.responder_id) for v in registry.visits()] == [("h0042", visitor)]


def test_responder_cannot_log_a_visit_for_someone_else(
    server: ServerThread, registry: Registry, make_token: Callable[..., str], as_token: Callable[[str], httpx.Client]
) -> None:
    """Guards against a visitor padding a colleague's record (or their own rate) with made-up visits."""
    registry.home("h0042", "c1")
    visitor, colleague = registry.responder("c1"), registry.responder("c1")
    http = as_token(make_token("responder", responder_id=visitor))

    other = http.post("/api/visits", json={"home": "h0042", "responder_id": colleague})
    own = http.post("/api/visits", json={"home": "h0042", "responder_id": visitor})

    assert other.status_code == 403
    assert "their own visits" in other.json()["detail"]
    assert own.status_code == 201
    assert [v.responder_id for v in registry.visits()] == [visitor]


def test_operator_logs_a_visit_on_behalf_of_a_visitor(
    server: ServerThread, registry: Registry, make_token: Callable[..., str], as_token: Callable[[str], httpx.Client]
) -> None:
    """Guards the service-centre path: a phoned-in visit is logged as the visitor's, the operator's token audited."""
    registry.home("h0042", "c1")
    visitor = registry.responder("c1")
    http = as_token(make_token("operator"))

    missing = http.post("/api/visits", json={"home": "h0042"})
    unknown = http.post("/api/visits", json={"home": "h0042", "responder_id": visitor + 100})
    logged = http.post("/api/visits", json={"home": "h0042", "responder_id": visitor, "notes": NOTES})

    assert _field_errors(missing) == ["responder_id"]
    assert _field_errors(unknown) == ["responder_id"]
    assert logged.status_code == 201, logged.text
    assert logged.json()["responder_id"] == visitor
    assert logged.json()["logged_by"].startswith("token:")  # the operator's token, not the visitor
    [audit] = registry.audit()
    assert audit.actor == logged.json()["logged_by"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"home": "h9999"}, "home"),
        ({"at": "in 2 hours"}, "at"),  # replaced below by a real time two hours ahead
        ({"at": "2025-03-01T10:00:00"}, "at"),  # naive: which zone's 10:00?
        ({"at": "yesterday"}, "at"),
        ({"notes": "x" * 2001}, "notes"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_visit_is_refused_naming_the_field_and_stores_nothing(
    server: ServerThread,
    client: httpx.Client,
    registry: Registry,
    change: dict[str, Any],
    field: str,
) -> None:
    """Guards the visit record: a typo'd home, a future or zone-less time, or an essay is a 422 naming the field."""
    registry.home("h0042", "c1")
    visitor = registry.responder("c1")
    body = {"home": "h0042", "responder_id": visitor, **change}
    if body.get("at") == "in 2 hours":
        body["at"] = (datetime.now(UTC) + timedelta(hours=2)).isoformat()

    response = client.post("/api/visits", json=body)

    assert _field_errors(response) == [field]
    assert registry.visits() == []


def test_visit_a_few_seconds_ahead_is_taken_as_clock_skew(
    server: ServerThread, client: httpx.Client, registry: Registry
) -> None:
    """Guards phones whose clock runs slightly fast: 20 s ahead is not "the future"."""
    registry.home("h0042", "c1")
    visitor = registry.responder("c1")
    at = datetime.now(UTC) + timedelta(seconds=20)

    response = client.post("/api/visits", json={"home": "h0042", "responder_id": visitor, "at": at.isoformat()})

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("role", "status"), [("integrator", 403), (None, 401)])
def test_visits_need_a_staff_token(
    server: ServerThread,
    registry: Registry,
    make_token: Callable[..., str],
    role: str | None,
    status: int,
) -> None:
    """Guards the API's door: no token is 401, an integrator (test bench) token is 403, for writes and reads."""
    registry.home("h0042", "c1")
    visitor = registry.responder("c1")
    headers = {"Authorization": f"Bearer {make_token(role)}"} if role else {}

    with httpx.Client(base_url=server.url, headers=headers, timeout=5.0) as http:
        write = http.post("/api/visits", json={"home": "h0042", "responder_id": visitor})
        read = http.get("/api/visits")

    assert (write.status_code, read.status_code) == (status, status)
    assert registry.visits() == []


@pytest.mark.postgres
def test_visit_list_is_scoped_filtered_and_months_are_local(
    server: ServerThread,
    client: httpx.Client,
    registry: Registry,
    make_token: Callable[..., str],
    as_token: Callable[[str], httpx.Client],
) -> None:
    """Guards reading visits: a responder sees only their communities; `month` is a month in local time."""
    registry.home("h0001", "c1")
    registry.home("h0002", "c2")
    visitor, other = registry.responder("c1"), registry.responder("c2")
    shanghai = datetime.fromisoformat
    early_march = registry.visit("h0001", shanghai("2025-03-01T00:30:00+08:00"), visitor)  # UTC: 28 February
    late_feb = registry.visit("h0001", shanghai("2025-02-28T23:30:00+08:00"), visitor)
    in_c2 = registry.visit("h0002", shanghai("2025-03-10T10:00:00+08:00"), other)
    responder = as_token(make_token("responder", responder_id=visitor))

    def ids(http: httpx.Client, **params: Any) -> list[int]:
        response = http.get("/api/visits", params=params)
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()]

    assert ids(client) == [in_c2, early_march, late_feb]  # latest first
    assert ids(responder) == [early_march, late_feb]
    assert ids(client, month="2025-03") == [in_c2, early_march]
    assert ids(client, month="2025-03", tz="UTC") == [in_c2]
    assert ids(client, home="h0002") == [in_c2]
    assert ids(client, responder_id=visitor, month="2025-02") == [late_feb]
    assert ids(responder, home="h0002") == []
    assert _field_errors(client.get("/api/visits", params={"month": "2025-13"})) == ["month"]
    assert _field_errors(client.get("/api/visits", params={"month": "2025-03", "tz": "Mars/Olympus"})) == ["tz"]
