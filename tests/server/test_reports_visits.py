"""Visiting-care reports: the monthly visit rate per community, who is overdue, and the chart.

A real server over a real SQLite file; homes, residents, visitors, assignments and visits are written
straight into the database (`Registry`), with times chosen around local month boundaries. The server's
months are Asia/Shanghai months (the shipped escalation policy's time zone, UTC+8).
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from server.run import ServerThread
from tests.server.test_visits import Registry

pytestmark = pytest.mark.postgres  # grouped queries with CASE, MAX over aware times, NULLS FIRST: both databases

SHANGHAI = ZoneInfo("Asia/Shanghai")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def local(text: str) -> datetime:
    """A Shanghai wall-clock time, e.g. "2025-03-01 00:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    reg = Registry(db_url)
    yield reg
    reg.close()


@pytest.fixture
def march(registry: Registry) -> dict[str, Any]:
    """Three communities in March 2025 (Shanghai time); returns the ids the tests look for.

    c1: four residents with the duty, three visited -> 0.75. One of them is visited on local 1 March at
    00:30 (still 28 February in UTC): counted. The fourth was visited on local 28 February 23:30 and local
    1 April 00:30 (31 March in UTC): neither counts for March. Also in c1: a resident without the duty
    (visited or not, never counted) and one registered in April (not in March's duty).
    c2: a couple in one home, one visit -> both visited, 1.0. c3: one resident, never visited -> 0.0.
    """
    for home, community in [("a1", "c1"), ("a2", "c1"), ("a3", "c1"), ("a4", "c1"), ("a5", "c1"),
                            ("b1", "c2"), ("k1", "c3")]:  # fmt: skip
        registry.home(home, community)
    visitor = registry.responder("c1", name="Wang Fang")
    ids = {
        "r1": registry.resident("a1"),
        "no_duty": registry.resident("a1", "other"),
        "r2": registry.resident("a2", "other"),  # has the duty through the assigned visitor
        "r3": registry.resident("a3"),
        "r4": registry.resident("a4"),
        "late": registry.resident("a5", created_at=local("2025-04-05 09:00")),
        "couple": [registry.resident("b1"), registry.resident("b1")],
        "never": registry.resident("k1"),
        "visitor": visitor,
    }
    registry.assign("a2", visitor)
    registry.visit("a1", local("2025-03-12 10:00"), visitor)
    registry.visit("a2", local("2025-03-20 15:00"), visitor)
    registry.visit("a2", local("2025-03-21 15:00"), visitor)  # a second visit adds nothing to the rate
    registry.visit("a3", local("2025-03-01 00:30"), visitor)
    registry.visit("a4", local("2025-02-28 23:30"), visitor)
    registry.visit("a4", local("2025-04-01 00:30"), visitor)
    registry.visit("b1", local("2025-03-05 09:00"))
    return ids


def _report(http: httpx.Client, **params: Any) -> dict[str, Any]:
    response = http.get("/api/reports/visits", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _rows(report: dict[str, Any]) -> dict[str, tuple[int, int, float | None, float | None]]:
    return {row["community"]: (row["duty"], row["visited"], row["rate"], row["gap"]) for row in report["communities"]}


def test_monthly_visit_rate_per_community_in_local_months(client: httpx.Client, march: dict[str, Any]) -> None:
    """Guards the headline figure: 3 of 4 duty residents visited is 0.75, months cut at Shanghai midnight."""
    report = _report(client, month="2025-03")

    assert (report["month"], report["timezone"], report["target"]) == ("2025-03", "Asia/Shanghai", 1.0)
    assert datetime.fromisoformat(report["start"]) == local("2025-03-01 00:00")
    assert datetime.fromisoformat(report["end"]) == local("2025-04-01 00:00")
    assert _rows(report) == {
        "c1": (4, 3, 0.75, 0.25),
        "c2": (2, 2, 1.0, 0.0),
        "c3": (1, 0, 0.0, 1.0),
    }
    assert report["communities"][0]["unvisited"] == 1
    total = report["total"]
    assert (total["community"], total["duty"], total["visited"]) == ("*", 7, 5)
    assert total["rate"] == pytest.approx(5 / 7)


def test_months_on_either_side_see_their_own_visits(client: httpx.Client, march: dict[str, Any]) -> None:
    """Guards both boundaries: local 28 Feb 23:30 is February's, local 1 Apr 00:30 is April's, not March's."""
    february = _rows(_report(client, month="2025-02"))
    april = _rows(_report(client, month="2025-04"))

    assert february["c1"] == (4, 1, 0.25, 0.75)  # only a4's 23:30 visit
    assert april["c1"] == (5, 1, 0.2, 0.8)  # a4's 00:30 visit; the resident registered on 5 April has the duty now


def test_time_zone_of_the_months_can_be_chosen(client: httpx.Client, registry: Registry) -> None:
    """Guards `tz`: 28 Feb 21:00 in New York is 1 March in UTC, so it is March's only when months are UTC ones."""
    registry.home("n1", "ny")
    registry.resident("n1")
    registry.visit("n1", datetime.fromisoformat("2025-02-28T21:00:00-05:00"))

    new_york = _rows(_report(client, month="2025-03", tz="America/New_York"))
    utc = _rows(_report(client, month="2025-03", tz="UTC"))
    bad = client.get("/api/reports/visits", params={"month": "2025-03", "tz": "Nowhere/Special"})

    assert (new_york["ny"], utc["ny"]) == ((1, 0, 0.0, 1.0), (1, 1, 1.0, 0.0))
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "tz"]


def test_report_is_scoped_to_the_callers_communities(
    client: httpx.Client, march: dict[str, Any], make_token: Callable[..., str], server: ServerThread
) -> None:
    """Guards scope: a c1 responder sees c1's rate only, 403 for c2's; an integrator sees none; `community` filters."""
    responder = {"Authorization": f"Bearer {make_token('responder', responder_id=march['visitor'])}"}
    integrator = {"Authorization": f"Bearer {make_token('integrator')}"}

    with httpx.Client(base_url=server.url, headers=responder, timeout=5.0) as http:
        own = _report(http, month="2025-03")
        other = http.get("/api/reports/visits", params={"month": "2025-03", "community": "c2"})
    with httpx.Client(base_url=server.url, headers=integrator, timeout=5.0) as http:
        refused = http.get("/api/reports/visits")

    assert list(_rows(own)) == ["c1"]
    assert other.status_code == 403
    assert refused.status_code == 403
    assert list(_rows(_report(client, month="2025-03", community="c2"))) == ["c2"]
    # A community with nobody to visit is reported as such, not left out.
    assert _rows(_report(client, month="2025-03", community="empty")) == {"empty": (0, 0, None, None)}


@pytest.mark.parametrize("month", ["2025-3", "2025-00", "2025-13", "March", "2025-03-01"])
def test_bad_month_is_a_422_naming_month(client: httpx.Client, month: str) -> None:
    """Guards against a typo'd month silently reporting another one."""
    response = client.get("/api/reports/visits", params={"month": month})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "month"]


def test_overdue_lists_the_never_visited_then_the_longest_ago(
    client: httpx.Client, registry: Registry, make_token: Callable[..., str], server: ServerThread
) -> None:
    """Guards the overdue list: who has the duty and no visit this month, most overdue first, with their visitors."""
    for home in ("o1", "o2", "o3", "o4", "o5"):
        registry.home(home, "c1")
    visitor = registry.responder("c1", name="Li Wei")
    as_of = local("2025-03-15 12:00")
    never_b = registry.resident("o2")
    never_a = registry.resident("o1", "other")  # duty through the assignment below
    long_ago = registry.resident("o3")
    last_month = registry.resident("o4")
    registry.resident("o5")  # visited this month: not overdue
    registry.assign("o1", visitor)
    registry.visit("o3", as_of - timedelta(days=40))
    registry.visit("o4", local("2025-02-27 12:00"))
    registry.visit("o5", local("2025-03-02 08:00"))
    registry.visit("o2", local("2025-03-20 08:00"))  # after as_of: not yet happened as far as the report knows

    response = client.get("/api/reports/visits/overdue", params={"as_of": as_of.isoformat()})
    with httpx.Client(
        base_url=server.url,
        timeout=5.0,
        headers={"Authorization": f"Bearer {make_token('responder', responder_id=visitor)}"},
    ) as http:
        as_responder = http.get("/api/reports/visits/overdue", params={"as_of": as_of.isoformat()}).json()

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["month"], report["timezone"]) == ("2025-03", "Asia/Shanghai")
    rows = report["residents"]
    assert [row["resident_id"] for row in rows] == [never_a, never_b, long_ago, last_month]
    assert [row["days_since_last_visit"] for row in rows] == [None, None, 40, 16]
    assert [row["home"] for row in rows] == ["o1", "o2", "o3", "o4"]
    assert {row["community"] for row in rows} == {"c1"}
    assert rows[0]["visitors"] == [{"responder_id": visitor, "name": "Li Wei"}]
    assert rows[1]["visitors"] == []
    # A responder gets the same list, visitors by id only.
    assert [row["resident_id"] for row in as_responder["residents"]] == [never_a, never_b, long_ago, last_month]
    assert as_responder["residents"][0]["visitors"] == [{"responder_id": visitor, "name": None}]


def test_overdue_of_another_community_is_refused_for_a_responder(
    server: ServerThread, registry: Registry, make_token: Callable[..., str]
) -> None:
    """Guards scope on the overdue list."""
    registry.home("o1", "c2")
    registry.resident("o1")
    visitor = registry.responder("c1")
    headers = {"Authorization": f"Bearer {make_token('responder', responder_id=visitor)}"}

    with httpx.Client(base_url=server.url, headers=headers, timeout=5.0) as http:
        other = http.get("/api/reports/visits/overdue", params={"community": "c2"})
        own = http.get("/api/reports/visits/overdue").json()

    assert other.status_code == 403
    assert own["residents"] == []


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _months_ago(count: int) -> datetime:
    """Noon on the 10th of the local month `count` months before this one."""
    now = datetime.now(SHANGHAI)
    index = now.year * 12 + now.month - 1 - count
    return datetime(index // 12, index % 12 + 1, 10, 12, tzinfo=SHANGHAI)


@pytest.fixture
def half_year(registry: Registry) -> None:
    """Two communities over the last six months: c1 climbing to 100%, c2 stuck around half."""
    for home, community in [("p1", "c1"), ("p2", "c1"), ("p3", "c1"), ("p4", "c1"), ("q1", "c2"), ("q2", "c2")]:
        registry.home(home, community)
        registry.resident(home, created_at=_months_ago(12))
    for months_ago, homes in [(5, ["p1"]), (4, ["p1", "p2"]), (3, ["p1", "p2", "p3"]), (2, ["p1", "p2", "p3", "p4"]),
                              (1, ["p1", "p2", "p3", "p4"]), (0, ["p1", "p2"])]:  # fmt: skip
        for home in homes:
            registry.visit(home, _months_ago(months_ago))
    for months_ago in range(6):
        registry.visit("q1" if months_ago % 2 else "q2", _months_ago(months_ago))


def test_chart_is_a_png_of_the_last_months(
    server: ServerThread, client: httpx.Client, half_year: None, tmp_path: Any
) -> None:
    """Guards the chart: a real PNG of the size drawn; saved under tmp_path for a look by eye."""
    response = client.get("/api/reports/visits.png", params={"months": 6})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert _png_size(response.content) == (900, 500)
    (tmp_path / "visits.png").write_bytes(response.content)


def test_chart_needs_a_staff_token_and_a_sane_month_count(
    server: ServerThread, client: httpx.Client, make_token: Callable[..., str]
) -> None:
    """Guards the chart's door and its bounds."""
    integrator = {"Authorization": f"Bearer {make_token('integrator')}"}

    refused = httpx.get(server.url + "/api/reports/visits.png", headers=integrator, timeout=5.0)
    too_many = client.get("/api/reports/visits.png", params={"months": 1000})

    assert refused.status_code == 403
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["query", "months"]


def test_chart_without_matplotlib_is_a_501_saying_what_to_install(
    server: ServerThread, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards installs without the plot extra: a clear 501, not a 500 and a traceback."""
    for name in [name for name in sys.modules if name == "matplotlib" or name.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # also when it was never imported

    response = client.get("/api/reports/visits.png")

    assert response.status_code == 501
    assert "matplotlib" in response.json()["detail"]
    assert "plot" in response.json()["detail"]
