"""Who may read and write the registry: responders see only their communities, integrators never see
residents' or families' data, only operators (and admins) change people's records. Real server, real tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from server.db.tables import AuditRow
from server.run import ServerThread


@dataclass(frozen=True)
class World:
    """Two communities with one home each, everything registered in both; record ids by community."""

    ids: dict[str, dict[str, int | str]]  # kind -> community -> id


@pytest.fixture
def world(client: httpx.Client) -> World:
    ids: dict[str, dict[str, int | str]] = {}

    def add(kind: str, community: str, body: dict[str, object]) -> None:
        record = client.post(f"/api/{kind}", json=body).raise_for_status().json()
        ids.setdefault(kind, {})[community] = record["id"]

    for number, community in enumerate(("east", "west"), start=1):
        home = f"h{community}"
        add("homes", community, {"id": home, "community": community})
        add("responders", community, {"name": f"R {community}", "phone": f"+861380000000{number}",
                                      "community": community})
        responder = ids["responders"][community]
        add("residents", community, {"home": home, "name": f"Resident {community}", "category": "other"})
        add("devices", community, {"home": home, "device_id": "sos", "type": "button", "credentials": "k"})
        add("contacts", community, {"home": home, "name": "Family", "phone": f"+861390000000{number}"})
        add("shifts", community, {"responder_id": responder, "days": [0], "start": "08:00", "end": "20:00"})
        add("assignments", community, {"home": home, "responder_id": responder})
    return World(ids)


@pytest.fixture
def as_token(server: ServerThread) -> Iterator[Callable[[str], httpx.Client]]:
    opened: list[httpx.Client] = []

    def open_client(token: str) -> httpx.Client:
        http = httpx.Client(base_url=server.url, timeout=5.0, headers={"Authorization": f"Bearer {token}"})
        opened.append(http)
        return http

    yield open_client
    for http in opened:
        http.close()


KINDS = ("homes", "residents", "devices", "contacts", "responders", "shifts", "assignments")


@pytest.mark.parametrize("kind", KINDS)
def test_responder_sees_only_their_communitys_records(
    world: World, make_token: Callable[..., str], as_token: Callable[[str], httpx.Client], kind: str
) -> None:
    """Guards residents' data across communities: a responder of east lists east's records only, and a
    record of west is 403 to them, not merely missing from a list."""
    east = as_token(make_token("responder", responder_id=int(world.ids["responders"]["east"])))

    listed = east.get(f"/api/{kind}")
    own = east.get(f"/api/{kind}/{world.ids[kind]['east']}")
    other = east.get(f"/api/{kind}/{world.ids[kind]['west']}")

    assert listed.status_code == 200
    assert [record["id"] for record in listed.json()] == [world.ids[kind]["east"]]
    assert own.status_code == 200
    assert other.status_code == 403
    assert other.json()["detail"] == "outside your communities"


def test_responder_with_extra_communities_sees_those_too(
    world: World, make_token: Callable[..., str], as_token: Callable[[str], httpx.Client]
) -> None:
    """Guards the scope a token may widen: a responder covering west as well sees both homes."""
    both = as_token(make_token("responder", responder_id=int(world.ids["responders"]["east"]), communities=("west",)))

    assert sorted(home["id"] for home in both.get("/api/homes").json()) == ["heast", "hwest"]
    assert both.get(f"/api/residents/{world.ids['residents']['west']}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/residents", {"home": "heast", "name": "New"}),
        ("PATCH", "/api/residents/{residents}", {"age": 90}),
        ("DELETE", "/api/contacts/{contacts}", None),
        ("POST", "/api/homes", {"id": "h3", "community": "east"}),
        ("POST", "/api/devices", {"home": "heast", "device_id": "d2", "type": "smoke"}),
        ("PATCH", "/api/responders/{responders}", {"on_duty": False}),
        ("POST", "/api/shifts", {"responder_id": 1, "days": [1], "start": "08:00", "end": "20:00"}),
        ("DELETE", "/api/assignments/{assignments}", None),
        ("POST", "/api/import/homes", None),
    ],
)
def test_responder_may_not_write_the_registry(
    world: World,
    make_token: Callable[..., str],
    as_token: Callable[[str], httpx.Client],
    client: httpx.Client,
    method: str,
    path: str,
    body: dict[str, object] | None,
) -> None:
    """Guards the registry against edits from the field: responders read, operators write."""
    east = as_token(make_token("responder", responder_id=int(world.ids["responders"]["east"])))
    url = path.format(**{kind: ids["east"] for kind, ids in world.ids.items()})
    before = {kind: client.get(f"/api/{kind}").json() for kind in KINDS}

    response = east.request(method, url, json=body)

    assert response.status_code == 403, response.text
    assert {kind: client.get(f"/api/{kind}").json() for kind in KINDS} == before


@pytest.mark.parametrize("kind", ["residents", "contacts", "responders", "shifts", "assignments"])
def test_integrator_may_not_read_peoples_records(
    world: World, make_token: Callable[..., str], as_token: Callable[[str], httpx.Client], kind: str
) -> None:
    """Guards personal data from test benches and installers: names, phones and conditions are 403."""
    bench = as_token(make_token("integrator"))

    assert bench.get(f"/api/{kind}").status_code == 403
    assert bench.get(f"/api/{kind}/{world.ids[kind]['east']}").status_code == 403


def test_integrator_registers_homes_and_devices_and_is_audited_as_its_token(
    world: World, make_token: Callable[..., str], as_token: Callable[[str], httpx.Client], server: ServerThread
) -> None:
    """Guards the installer's job: registering a home and its devices without any person's data."""
    bench = as_token(make_token("integrator"))

    home = bench.post("/api/homes", json={"id": "h-bench", "community": "east"})
    device = bench.post("/api/devices", json={"home": "h-bench", "device_id": "radar-1", "type": "radar"})
    moved = bench.patch("/api/homes/h-bench", json={"address": "Bench 1"})
    resident = bench.post("/api/residents", json={"home": "h-bench", "name": "Test"})

    assert (home.status_code, device.status_code, moved.status_code) == (201, 201, 200)
    assert resident.status_code == 403
    assert sorted(h["id"] for h in bench.get("/api/homes").json()) == ["h-bench", "heast", "hwest"]
    assert len(bench.get("/api/devices").json()) == 3
    with server.app.state.sessions() as session:
        actors = set(session.scalars(select(AuditRow.actor).where(AuditRow.entity_id.in_(["h-bench"]))))
    assert len(actors) == 1 and actors.pop().startswith("token:")


def test_operator_writes_peoples_records_and_the_audit_names_the_operators_token(
    world: World, make_token: Callable[..., str], as_token: Callable[[str], httpx.Client], server: ServerThread
) -> None:
    """Guards "every write is audited" with who: the operator's token, never a name the request claims."""
    desk = as_token(make_token("operator"))

    created = desk.post("/api/residents", json={"home": "hwest", "name": "New Resident", "category": "safety_net"})

    assert created.status_code == 201
    with server.app.state.sessions() as session:
        row = session.scalar(
            select(AuditRow).where(AuditRow.entity == "residents", AuditRow.entity_id == str(created.json()["id"]))
        )
    assert row is not None and row.action == "create" and row.actor.startswith("token:")


@pytest.mark.parametrize("path", ["/api/homes", "/api/residents", "/api/devices", "/api/import/homes"])
def test_registry_without_a_token_is_401(server: ServerThread, path: str) -> None:
    """Guards the registry from anonymous callers."""
    with httpx.Client(base_url=server.url, timeout=5.0) as anonymous:
        assert anonymous.get(path).status_code in (401, 405)
        assert anonymous.post(path, json={}).status_code == 401
