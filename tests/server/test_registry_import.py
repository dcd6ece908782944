"""Bulk CSV import of the registry (POST /api/import/{kind}, server/registry/csv_import.py) through a real
server: the shipped district example, all-or-nothing validation with row numbers, dry runs, limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import server.registry
from server.db.tables import AuditRow, DeviceRow
from server.registry.csv_import import MAX_IMPORT_BYTES
from server.run import ServerThread

EXAMPLES = Path(server.registry.__file__).parent / "examples"
ORDER = ("homes", "responders", "residents", "devices", "contacts", "shifts", "assignments")
CSV = {"Content-Type": "text/csv; charset=utf-8"}


def _import(client: httpx.Client, kind: str, text: str | bytes, **params: Any) -> httpx.Response:
    body = text.encode() if isinstance(text, str) else text
    return client.post(f"/api/import/{kind}", content=body, headers=CSV, params=params)


def _rows(kind: str) -> int:
    return sum(1 for line in (EXAMPLES / f"{kind}.csv").read_text().splitlines()[1:] if line.strip())


def _imports(server: ServerThread) -> list[AuditRow]:
    with server.app.state.sessions() as session:
        return list(session.scalars(select(AuditRow).where(AuditRow.action == "import").order_by(AuditRow.id)))


@pytest.mark.postgres
def test_district_example_imports_in_roll_out_order(client: httpx.Client, server: ServerThread) -> None:
    """Guards a district's roll-out: the shipped example files import kind by kind, everything lands, and
    each import is one audit row."""
    results = {kind: _import(client, kind, (EXAMPLES / f"{kind}.csv").read_bytes()) for kind in ORDER}

    for kind, response in results.items():
        assert response.status_code == 200, (kind, response.text)
        assert response.json() == {"kind": kind, "rows": _rows(kind), "created": _rows(kind), "updated": 0,
                                   "dry_run": False}
        assert len(client.get(f"/api/{kind}", params={"limit": 1000}).json()) == _rows(kind), kind
    homes = {home["id"]: home for home in client.get("/api/homes").json()}
    assert homes["h0101"]["address"] == "东街 1号, 3单元 101"
    responders = {r["phone"]: r for r in client.get("/api/responders").json()}
    assert responders["+8613800100001"]["skills"] == ["first_aid", "nursing"]
    assert responders["+8613800200002"]["on_duty"] is False
    [resident] = client.get("/api/residents", params={"home": "h0103", "category": "disabled_or_dementia"}).json()
    assert resident["conditions"] == ["dementia", "diabetes"]
    assert resident["consent_at"] is not None
    night, weekend = client.get("/api/shifts", params={"responder_id": responders["+8613800100002"]["id"]}).json()
    assert (night["days"], night["start"], night["end"]) == ([0, 1, 2, 3, 4], "20:00", "08:00")
    assert (weekend["start"], weekend["end"], weekend["timezone"]) == ("00:00", "00:00", "Asia/Shanghai")
    visitor = responders["+8613800100003"]["id"]
    assert sorted(a["home"] for a in client.get("/api/assignments", params={"responder_id": visitor}).json()) == [
        "h0101",
        "h0102",
    ]
    devices = client.get("/api/devices", params={"home": "h0103"})
    assert "pair-key-0001" not in devices.text and devices.json()[0]["has_credentials"] is True
    with server.app.state.sessions() as session:
        assert session.scalar(select(DeviceRow.credentials).where(DeviceRow.device_id == "bed_pad")) == "pair-key-0001"
    audit = _imports(server)
    assert [(row.entity, row.actor, row.detail["rows"]) for row in audit] == [(k, "admin", _rows(k)) for k in ORDER]
    assert audit[2].detail["fields"] == ["age", "category", "conditions", "consent", "home", "name"]
    assert "Resident A" not in str([row.detail for row in audit])


def test_reimport_updates_by_natural_key_and_keeps_what_the_file_leaves_empty(client: httpx.Client) -> None:
    """Guards re-running a roll-out file: records are updated in place, not doubled, and an empty cell
    keeps the value already registered."""
    _import(client, "homes", (EXAMPLES / "homes.csv").read_bytes()).raise_for_status()

    response = _import(client, "homes", "id,community,address\nh0101,north,\nh0199,north,New Road 1\n")

    assert response.json() == {"kind": "homes", "rows": 2, "created": 1, "updated": 1, "dry_run": False}
    home = client.get("/api/homes/h0101").json()
    assert (home["community"], home["address"]) == ("north", "东街 1号, 3单元 101")
    assert len(client.get("/api/homes").json()) == 5


def test_byte_order_mark_and_crlf_of_a_spreadsheet_export_are_accepted(client: httpx.Client) -> None:
    """Guards the file Excel writes as "CSV UTF-8": a BOM before the header and CRLF line ends."""
    body = "\ufeffid,community,address\r\nh1,east,东街 2号\r\n\r\nh2,west,\r\n".encode()

    response = _import(client, "homes", body)

    assert response.status_code == 200, response.text
    assert [h["id"] for h in client.get("/api/homes").json()] == ["h1", "h2"]


def test_file_with_two_bad_rows_is_refused_whole_listing_both(client: httpx.Client, server: ServerThread) -> None:
    """Guards all-or-nothing: two bad rows among good ones are both reported by file row number and field,
    and not even the good rows are written."""
    _import(client, "homes", (EXAMPLES / "homes.csv").read_bytes()).raise_for_status()
    text = (
        "home,name,age,category,conditions,consent\n"
        "h0101,Good One,80,other,,true\n"
        "h0101,Bad Category,80,vip,,true\n"
        "h0102,Good Two,70,special_difficulty,a;b,false\n"
        "h0999,Unknown Home,200,other,,maybe\n"
    )

    response = _import(client, "residents", text)

    assert response.status_code == 422
    problems = [(p["row"], p["field"]) for p in response.json()["detail"]]
    assert problems == [(3, "category"), (5, "age"), (5, "consent")]
    assert all(p["message"] for p in response.json()["detail"])
    assert client.get("/api/residents").json() == []
    assert [row.entity for row in _imports(server)] == ["homes"]


def test_row_naming_an_unregistered_record_or_repeating_a_key_is_a_row_error(client: httpx.Client) -> None:
    """Guards references and keys inside a file: a resident of an unknown home, a responder phone nobody
    has, the same device twice."""
    _import(client, "homes", "id,community\nh1,east\n").raise_for_status()

    residents = _import(client, "residents", "home,name\nh1,A\nh9,B\n")
    assignments = _import(client, "assignments", "home,responder_phone\nh1,+8613800000001\n")
    devices = _import(client, "devices", "home,device_id,type\nh1,d1,button\nh1,d2,smoke\nh1,d1,smoke\n")

    assert [(p["row"], p["field"]) for p in residents.json()["detail"]] == [(3, "home")]
    assert [(p["row"], p["field"]) for p in assignments.json()["detail"]] == [(2, "responder_phone")]
    [duplicate] = devices.json()["detail"]
    assert (duplicate["row"], duplicate["field"]) == (4, "device_id")
    assert "row 2" in duplicate["message"]


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("id,community,colour\nh1,east,red\n", [(1, "colour")]),
        ("id,address\nh1,here\n", [(1, "community")]),
        ("id,community,id\nh1,east,h2\n", [(1, "id")]),
        ("", [(1, None)]),
        ("id,community\nh1,east,extra\n", [(2, None)]),
    ],
    ids=["unknown-column", "missing-column", "repeated-column", "empty-file", "too-many-cells"],
)
def test_malformed_file_is_refused_naming_the_place(
    client: httpx.Client, text: str, problems: list[tuple[int, str | None]]
) -> None:
    """Guards against a file in the wrong shape: the header (row 1) is checked before any row."""
    response = _import(client, "homes", text)

    assert response.status_code == 422
    assert [(p["row"], p["field"]) for p in response.json()["detail"]] == problems
    assert client.get("/api/homes").json() == []


def test_file_that_is_not_utf8_is_refused(client: httpx.Client) -> None:
    """Guards against a GBK export read as garbage: it is refused, with the fix in the message."""
    response = _import(client, "homes", "id,community,address\nh1,east,东街\n".encode("gbk"))

    assert response.status_code == 422
    assert "UTF-8" in response.json()["detail"][0]["message"]


def test_dry_run_counts_and_writes_nothing(client: httpx.Client, server: ServerThread) -> None:
    """Guards the rehearsal before a roll-out: the answer says what would happen, the registry is untouched."""
    _import(client, "homes", "id,community\nh0101,east\n").raise_for_status()

    response = _import(client, "homes", (EXAMPLES / "homes.csv").read_bytes(), dry_run="true")
    bad = _import(client, "homes", "id,community\nh/1,east\n", dry_run="true")

    assert response.json() == {"kind": "homes", "rows": 4, "created": 3, "updated": 1, "dry_run": True}
    assert [h["id"] for h in client.get("/api/homes").json()] == ["h0101"]
    assert [(p["row"], p["field"]) for p in bad.json()["detail"]] == [(2, "id")]
    assert [row.detail["rows"] for row in _imports(server)] == [1]


def test_shifts_and_assignments_name_their_responder_by_phone_or_id(client: httpx.Client) -> None:
    """Guards files written before anyone knows the ids: a phone works in place of `responder_id`."""
    _import(client, "homes", "id,community\nh1,east\n").raise_for_status()
    _import(client, "responders", "name,phone,community\nA,+8613800000001,east\n").raise_for_status()
    rid = client.get("/api/responders").json()[0]["id"]

    by_phone = _import(client, "shifts", "responder_phone,days,start,end\n+8613800000001,0;2;4,08:00,17:00\n")
    by_id = _import(client, "assignments", f"home,responder_id\nh1,{rid}\n")
    both = _import(client, "assignments", f"home,responder_id,responder_phone\nh1,{rid},+8613800000001\n")

    assert by_phone.json()["created"] == 1
    assert by_id.json()["created"] == 1
    assert [(p["row"], p["field"]) for p in both.json()["detail"]] == [(1, "responder_phone")]
    [shift] = client.get("/api/shifts").json()
    assert (shift["responder_id"], shift["days"], shift["timezone"]) == (rid, [0, 2, 4], "Asia/Shanghai")


def test_oversized_body_is_413_and_other_media_types_415_and_unknown_kinds_422(client: httpx.Client) -> None:
    """Guards the server against a runaway upload and a client posting the wrong thing."""
    big = b"id,community\n" + b"h1,east\n" * (MAX_IMPORT_BYTES // 8 + 1)

    too_big = _import(client, "homes", big)
    json_body = client.post("/api/import/homes", json={"id": "h1"})
    unknown = _import(client, "visits", "id\n1\n")

    assert too_big.status_code == 413
    assert json_body.status_code == 415
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["path", "kind"]
    assert client.get("/api/homes").json() == []
