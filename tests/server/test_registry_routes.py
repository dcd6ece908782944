"""The registry's JSON API (server/api/routes/{homes,residents,devices,contacts,responders,shifts,assignments}.py)
through a real server: create, read, list, change, delete, with the errors that name the field, the
audit row of every write, and deletes that cascade. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.db.tables import AuditRow, DeviceRow
from server.run import ServerThread


def _audit(server: ServerThread, entity: str) -> list[AuditRow]:
    with server.app.state.sessions() as session:
        return list(session.scalars(select(AuditRow).where(AuditRow.entity == entity).order_by(AuditRow.id)))


@dataclass(frozen=True)
class Setup:
    """A registered home with a second one next to it, and two responders, ids as the API gave them."""

    home: str
    other_home: str
    responder: int
    other_responder: int


@pytest.fixture
def setup(client: httpx.Client) -> Setup:
    for home, community in (("h0001", "east"), ("h0002", "east")):
        client.post("/api/homes", json={"id": home, "community": community}).raise_for_status()
    ids = [
        client.post("/api/responders", json={"name": name, "phone": phone, "community": "east"})
        .raise_for_status()
        .json()["id"]
        for name, phone in (("Wang", "+8613800000001"), ("Li", "+8613800000002"))
    ]
    return Setup(home="h0001", other_home="h0002", responder=ids[0], other_responder=ids[1])


def test_home_is_registered_then_updated_by_posting_its_id_again(client: httpx.Client, server: ServerThread) -> None:
    """Guards the upsert the demo and the tests rely on: posting a home twice updates it instead of failing."""
    first = client.post("/api/homes", json={"id": "h0001", "community": "east", "address": "1 Lane"})
    second = client.post("/api/homes", json={"id": "h0001", "community": "west"})

    assert (first.status_code, second.status_code) == (201, 200)
    [home] = client.get("/api/homes").json()
    assert {k: home[k] for k in ("id", "community", "address")} == {"id": "h0001", "community": "west", "address": None}
    assert isinstance(home["shard"], int)
    assert client.get("/api/homes", params={"community": "east"}).json() == []
    assert [(row.action, row.entity_id) for row in _audit(server, "homes")] == [
        ("create", "h0001"),
        ("update", "h0001"),
    ]


def test_home_shard_is_the_gateway_shard_and_read_only(client: httpx.Client) -> None:
    """Guards the shard the gateway workers split homes by: computed from the id, never written by a client."""
    from gateway.protocol.topics import shard_of

    created = client.post("/api/homes", json={"id": "h0042", "community": "east"}).json()
    refused = client.post("/api/homes", json={"id": "h0043", "community": "east", "shard": 3})
    patched = client.patch("/api/homes/h0042", json={"shard": 3})

    assert created["shard"] == shard_of("h0042")
    assert client.get("/api/homes", params={"shard": shard_of("h0042")}).json() == [created]
    assert [error["loc"][1] for error in refused.json()["detail"]] == ["shard"]
    assert [error["loc"][1] for error in patched.json()["detail"]] == ["shard"]
    assert client.get("/api/homes/h0042").json()["shard"] == shard_of("h0042")


def test_responder_is_added_and_listed(client: httpx.Client) -> None:
    """Guards the call list: a posted responder is stored with its duty flag defaulting to on."""
    response = client.post("/api/responders", json={"name": "Wang", "phone": "+8613800000001", "community": "east"})

    assert response.status_code == 201
    created = response.json()
    assert (created["on_duty"], created["skills"], created["language"]) == (True, [], None)
    assert client.get("/api/responders").json() == [created]
    assert client.get("/api/responders", params={"community": "west"}).json() == []


@dataclass(frozen=True)
class Case:
    """One kind's create body and a change to it, given the ids of `Setup`."""

    path: str
    create: dict[str, Any]
    change: dict[str, Any]
    filters: dict[str, Any]
    personal: tuple[str, ...] = ()  # values that must never reach the audit log


def _case(kind: str, s: Setup) -> Case:
    return {
        "homes": Case("/api/homes", {"id": "h0009", "community": "north", "address": "9 Lane"},
                      {"address": "10 Lane"}, {"community": "north"}, personal=("9 Lane", "10 Lane")),
        "residents": Case(
            "/api/residents",
            {"home": s.home, "name": "Zhang Lan", "age": 84, "category": "special_difficulty",
             "conditions": ["diabetes"], "consent": True},
            {"category": "safety_net", "conditions": ["diabetes", "dementia"]},
            {"home": s.home, "category": "safety_net"},
            personal=("Zhang Lan", "diabetes", "dementia"),
        ),
        "devices": Case(
            "/api/devices", {"home": s.home, "device_id": "sos_button", "type": "button", "room": "bedroom"},
            {"room": "hall", "model": "SNZB-01"}, {"home": s.home, "type": "button"},
        ),
        "contacts": Case(
            "/api/contacts",
            {"home": s.home, "name": "Zhang Wei", "phone": "+8613900000001", "relation": "son", "order": 1,
             "language": "zh-CN"},
            {"order": 0, "phone": "+8613900000002"}, {"home": s.home},
            personal=("Zhang Wei", "+8613900000001", "+8613900000002"),
        ),
        "responders": Case(
            "/api/responders",
            {"name": "Zhao", "phone": "+8613800000003", "community": "east", "skills": ["first_aid"],
             "language": "zh-CN"},
            {"on_duty": False, "skills": ["first_aid", "nursing"]}, {"community": "east", "on_duty": False},
            personal=("Zhao", "+8613800000003"),
        ),
        "shifts": Case("/api/shifts", {"responder_id": s.responder, "days": [4, 0], "start": "20:00", "end": "08:00"},
                       {"days": [5, 6], "timezone": "Europe/Berlin"}, {"responder_id": s.responder}),
        "assignments": Case("/api/assignments", {"home": s.home, "responder_id": s.responder},
                            {"responder_id": s.other_responder}, {"home": s.home}),
    }[kind]


KINDS = ("homes", "residents", "devices", "contacts", "responders", "shifts", "assignments")


@pytest.mark.parametrize("kind", KINDS)
def test_record_is_created_read_listed_changed_and_deleted_with_an_audit_row_each(
    client: httpx.Client, server: ServerThread, setup: Setup, kind: str
) -> None:
    """Guards the registry's whole CRUD cycle per kind, and that each write is audited by field name only."""
    case = _case(kind, setup)
    audited_before = len(_audit(server, kind))

    created = client.post(case.path, json=case.create)
    assert created.status_code == 201, created.text
    record = created.json()
    url = f"{case.path}/{record['id']}"
    for name, value in case.create.items():
        expected = sorted(value) if name == "days" else value
        assert record[name] == expected, name
    assert client.get(url).json() == record

    changed = client.patch(url, json=case.change)
    assert changed.status_code == 200, changed.text
    assert {name: changed.json()[name] for name in case.change} == case.change
    assert client.get(url).json() == changed.json()
    assert changed.json() in client.get(case.path, params=case.filters).json()

    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
    assert client.patch(url, json=case.change).status_code == 404

    audit = _audit(server, kind)[audited_before:]
    assert [(row.action, row.entity_id) for row in audit] == [
        ("create", str(record["id"])),
        ("update", str(record["id"])),
        ("delete", str(record["id"])),
    ]
    assert audit[0].actor == "admin"
    assert audit[0].detail["fields"] == sorted(case.create)
    assert audit[1].detail["fields"] == sorted(case.change)
    for value in case.personal:
        assert value not in json.dumps([row.detail for row in audit], ensure_ascii=False)


def test_consent_time_is_stamped_when_consent_is_given_and_cleared_when_withdrawn(
    client: httpx.Client, setup: Setup
) -> None:
    """Guards the record of when a resident agreed to monitoring."""
    resident = client.post("/api/residents", json={"home": setup.home, "name": "Sun Mei"}).json()
    assert (resident["consent"], resident["consent_at"]) == (False, None)

    given = client.patch(f"/api/residents/{resident['id']}", json={"consent": True}).json()
    again = client.patch(f"/api/residents/{resident['id']}", json={"consent": True, "age": 80}).json()
    withdrawn = client.patch(f"/api/residents/{resident['id']}", json={"consent": False}).json()

    assert given["consent_at"] is not None
    assert again["consent_at"] == given["consent_at"]  # still the time it was given
    assert (withdrawn["consent"], withdrawn["consent_at"]) == (False, None)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/homes", {"id": "h/1", "community": "east"}, "id"),
        ("/api/homes", {"id": "h1"}, "community"),
        ("/api/responders", {"name": "Wang", "phone": "13800000001", "community": "east"}, "phone"),
        ("/api/responders", {"name": "", "phone": "+8613800000001", "community": "east"}, "name"),
        ("/api/residents", {"home": "h0001", "name": "Li", "category": "vip"}, "category"),
        ("/api/residents", {"home": "h0001", "name": "Li", "age": 131}, "age"),
        ("/api/residents", {"home": "h0001", "name": "Li", "categroy": "other"}, "categroy"),
        ("/api/contacts", {"home": "h0001", "name": "Li", "phone": "+86 139 0000 0001"}, "phone"),
        ("/api/devices", {"home": "h0001", "device_id": "d1", "type": "toaster"}, "type"),
        ("/api/shifts", {"responder_id": 1, "days": [0], "start": "08:00", "end": "20:00", "timezone": "Mars/Base"},
         "timezone"),
        ("/api/shifts", {"responder_id": 1, "days": [0], "start": "24:00", "end": "08:00"}, "start"),
        ("/api/shifts", {"responder_id": 1, "days": [7], "start": "08:00", "end": "20:00"}, "days"),
        ("/api/residents", {"home": "h9999", "name": "Li"}, "home"),
        ("/api/devices", {"home": "h9999", "device_id": "d1", "type": "button"}, "home"),
        ("/api/shifts", {"responder_id": 999, "days": [0], "start": "08:00", "end": "20:00"}, "responder_id"),
        ("/api/assignments", {"home": "h0001", "responder_id": 999}, "responder_id"),
    ],
    ids=[
        "home-id-with-slash", "home-without-community", "phone-not-e164", "empty-name", "unknown-category",
        "age-over-130", "misspelt-field", "contact-phone-with-spaces", "unknown-device-type", "unknown-timezone",
        "hour-24", "day-7", "resident-of-unknown-home", "device-of-unknown-home", "shift-of-unknown-responder",
        "assignment-of-unknown-responder",
    ],
)
def test_invalid_registry_input_is_422_naming_the_field_and_writes_nothing(
    client: httpx.Client, server: ServerThread, setup: Setup, path: str, body: dict[str, Any], field: str
) -> None:
    """Guards against unusable registry rows: a phone no provider takes, a category no policy knows, a home
    id no topic can carry, a record pointing nowhere. The error says which field to fix."""
    before = client.get(path).json()
    audited = len(_audit(server, path.rpartition("/")[2]))

    response = client.post(path, json=body)

    assert response.status_code == 422, response.text
    assert [error["loc"][1] for error in response.json()["detail"]] == [field]
    assert client.get(path).json() == before
    assert len(_audit(server, path.rpartition("/")[2])) == audited


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/residents", {"name": None}, "name"),
        ("/api/residents", {"home": "h9999"}, "home"),
        ("/api/residents", {"category": "vip"}, "category"),
        ("/api/shifts", {"end": "8pm"}, "end"),
    ],
    ids=["null-name", "unknown-home", "unknown-category", "bad-end"],
)
def test_invalid_change_is_422_naming_the_field_and_changes_nothing(
    client: httpx.Client, setup: Setup, path: str, body: dict[str, Any], field: str
) -> None:
    """Guards partial updates: a bad field is refused and the record keeps every value it had."""
    creates = {
        "/api/residents": {"home": setup.home, "name": "Li"},
        "/api/shifts": {"responder_id": setup.responder, "days": [0], "start": "08:00", "end": "20:00"},
    }
    record = client.post(path, json=creates[path]).json()

    response = client.patch(f"{path}/{record['id']}", json=body)

    assert response.status_code == 422, response.text
    assert [error["loc"][1] for error in response.json()["detail"]] == [field]
    assert client.get(f"{path}/{record['id']}").json() == record


@pytest.mark.parametrize(
    ("path", "first", "second"),
    [
        ("/api/residents", {"home": "h0001", "name": "Li"}, {"home": "h0001", "name": "Li", "age": 70}),
        ("/api/devices", {"home": "h0001", "device_id": "d1", "type": "button"},
         {"home": "h0001", "device_id": "d1", "type": "smoke"}),
        ("/api/contacts", {"home": "h0001", "name": "A", "phone": "+8613900000001"},
         {"home": "h0001", "name": "B", "phone": "+8613900000001"}),
        ("/api/responders", {"name": "A", "phone": "+8613800000009", "community": "east"},
         {"name": "B", "phone": "+8613800000009", "community": "west"}),
        ("/api/assignments", {"home": "h0001", "responder_id": 1}, {"home": "h0001", "responder_id": 1}),
        ("/api/shifts", {"responder_id": 1, "days": [0, 1], "start": "08:00", "end": "20:00"},
         {"responder_id": 1, "days": [1, 0], "start": "08:00", "end": "20:00", "timezone": "Asia/Shanghai"}),
    ],
    ids=["resident-name-in-home", "device-id-in-home", "contact-phone-in-home", "responder-phone", "assignment",
         "same-shift"],
)
def test_duplicate_is_409_and_keeps_the_first(
    client: httpx.Client, setup: Setup, path: str, first: dict[str, Any], second: dict[str, Any]
) -> None:
    """Guards the natural keys the CSV import updates by: one record per key, the second post refused."""
    kept = client.post(path, json=first)
    assert kept.status_code == 201, kept.text

    response = client.post(path, json=second)

    assert response.status_code == 409, response.text
    assert f"id {kept.json()['id']}" in response.json()["detail"]
    assert client.get(path).json()[-1] == kept.json()


def test_change_onto_another_records_key_is_409(client: httpx.Client, setup: Setup) -> None:
    """Guards the natural key on updates too: renaming a device to its neighbour's id is refused."""
    client.post("/api/devices", json={"home": setup.home, "device_id": "d1", "type": "button"}).raise_for_status()
    second = client.post("/api/devices", json={"home": setup.home, "device_id": "d2", "type": "button"}).json()

    response = client.patch(f"/api/devices/{second['id']}", json={"device_id": "d1"})

    assert response.status_code == 409
    assert client.get(f"/api/devices/{second['id']}").json()["device_id"] == "d2"


def test_device_credentials_are_stored_but_never_returned(
    client: httpx.Client, server: ServerThread, setup: Setup
) -> None:
    """Guards a pairing key or broker password against leaking through the API or the audit."""
    secret = "pair-key-7f3a9c"
    created = client.post(
        "/api/devices", json={"home": setup.home, "device_id": "hub", "type": "radar", "credentials": secret}
    )
    device = created.json()
    url = f"/api/devices/{device['id']}"
    with server.app.state.sessions() as session:
        stored = session.get(DeviceRow, device["id"])
        assert stored is not None and stored.credentials == secret

    responses = [created, client.get(url), client.get("/api/devices"), client.patch(url, json={"room": "hall"})]
    for response in responses:
        assert secret not in response.text
        assert "credentials" not in response.text.replace("has_credentials", "")
    assert device["has_credentials"] is True
    assert secret not in json.dumps([row.detail for row in _audit(server, "devices")])

    cleared = client.patch(url, json={"credentials": None}).json()
    assert cleared["has_credentials"] is False


def test_deleting_a_home_deletes_what_is_registered_in_it(
    client: httpx.Client, server: ServerThread, setup: Setup
) -> None:
    """Guards against orphans: residents, devices, contacts and visitor assignments go with their home."""
    home = setup.home
    client.post("/api/residents", json={"home": home, "name": "Li"}).raise_for_status()
    client.post("/api/devices", json={"home": home, "device_id": "d1", "type": "button"}).raise_for_status()
    client.post("/api/contacts", json={"home": home, "name": "A", "phone": "+8613900000001"}).raise_for_status()
    client.post("/api/assignments", json={"home": home, "responder_id": setup.responder}).raise_for_status()
    client.post("/api/residents", json={"home": setup.other_home, "name": "Zhao"}).raise_for_status()

    assert client.delete(f"/api/homes/{home}").status_code == 204

    for path in ("/api/residents", "/api/devices", "/api/contacts", "/api/assignments"):
        assert client.get(path, params={"home": home}).json() == [], path
    assert [r["home"] for r in client.get("/api/residents").json()] == [setup.other_home]
    assert len(client.get("/api/responders").json()) == 2  # responders belong to the community, not the home
    assert [row.action for row in _audit(server, "homes") if row.entity_id == home][-1] == "delete"


def test_deleting_a_responder_deletes_their_shifts_and_assignments(client: httpx.Client, setup: Setup) -> None:
    """Guards the call list against a departed responder's shifts and visits lingering."""
    rid = setup.responder
    client.post("/api/shifts", json={"responder_id": rid, "days": [0], "start": "08:00", "end": "20:00"})
    client.post("/api/assignments", json={"home": setup.home, "responder_id": rid}).raise_for_status()

    assert client.delete(f"/api/responders/{rid}").status_code == 204

    assert client.get("/api/shifts").json() == []
    assert client.get("/api/assignments").json() == []


def test_health_answers_ok(client: httpx.Client) -> None:
    """Guards the probe that load balancers and start-up waits use."""
    assert client.get("/api/health").json() == {"status": "ok"}
