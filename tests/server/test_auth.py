"""Auth and audit through real HTTP on a real server: bearer tokens, roles, community scope, the audit log.

Tokens are issued the ways a deployment issues them (the admin token from the environment, `POST
/api/tokens`, or straight into the database like `homesafe token create`); nothing is mocked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select, update

from gateway.protocol import Alert, encode
from server.config import ServerSettings
from server.db.tables import AlertTransitionRow, ApiTokenRow
from server.run import ServerThread
from tests.server.conftest import ADMIN_HEADERS, ADMIN_TOKEN

# Under /api, only these answer without a token: liveness for load balancers, and the gateway's door
# (guarded by HOMESAFE_INGEST_TOKEN when set; see test_ingest_*). Anything else added later must refuse.
PUBLIC_API_ROUTES: Final = {("GET", "/api/health"), ("POST", "/api/ingest/alerts")}

# Every write route under /api (but ingest, which the gateway uses and the alert's own timeline records).
# Each must leave an audit row: `WRITES` below performs one of each. A new write route fails
# `test_every_write_route_is_covered_by_the_audit_test` until it is added there.
AUDITED_WRITE_ROUTES: Final = {
    ("POST", "/api/alerts/{alert_id}/ack"),
    ("POST", "/api/alerts/{alert_id}/resolve"),
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/{token_id}"),
    ("POST", "/api/homes"),
    ("PATCH", "/api/homes/{home_id}"),
    ("DELETE", "/api/homes/{home_id}"),
    ("POST", "/api/residents"),
    ("PATCH", "/api/residents/{resident_id}"),
    ("DELETE", "/api/residents/{resident_id}"),
    ("POST", "/api/devices"),
    ("PATCH", "/api/devices/{device_id}"),
    ("DELETE", "/api/devices/{device_id}"),
    ("POST", "/api/contacts"),
    ("PATCH", "/api/contacts/{contact_id}"),
    ("DELETE", "/api/contacts/{contact_id}"),
    ("POST", "/api/responders"),
    ("PATCH", "/api/responders/{responder_id}"),
    ("DELETE", "/api/responders/{responder_id}"),
    ("POST", "/api/shifts"),
    ("PATCH", "/api/shifts/{shift_id}"),
    ("DELETE", "/api/shifts/{shift_id}"),
    ("POST", "/api/assignments"),
    ("PATCH", "/api/assignments/{assignment_id}"),
    ("DELETE", "/api/assignments/{assignment_id}"),
    ("POST", "/api/visits"),
    ("POST", "/api/import/{kind}"),
}
WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EAST, WEST = "east", "west"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _api_routes(server: ServerThread) -> set[tuple[str, str]]:
    """(method, path) of every route under /api, whatever router it came from."""
    routes = set()
    for route in iter_route_contexts(server.app.routes):
        path = route.path or ""
        if path.startswith("/api/"):
            routes |= {(method, path) for method in route.methods or ()}
    return routes


@dataclass
class World:
    """Two communities with a registered home and a responder each, and an open SOS in every home plus one
    in a home the registry does not know."""

    client: httpx.Client
    east_alert: str
    west_alert: str
    unregistered_alert: str
    east_responder: int
    west_responder: int

    def alert(self, alert_id: str) -> dict[str, Any]:
        return self.client.get(f"/api/alerts/{alert_id}").raise_for_status().json()


@pytest.fixture
def world(client: httpx.Client, new_alert: Callable[..., Alert]) -> World:
    ids = {}
    for community in (EAST, WEST):
        client.post("/api/homes", json={"id": f"h-{community}", "community": community}).raise_for_status()
        phone = "+861380000010" + ("1" if community == EAST else "2")
        body = {"name": f"responder {community}", "phone": phone, "community": community}
        ids[community] = client.post("/api/responders", json=body).raise_for_status().json()["id"]
    alerts = [new_alert(home="h-east"), new_alert(home="h-west"), new_alert(home="h-nowhere")]
    client.post("/api/ingest/alerts", content=encode(alerts)).raise_for_status()
    return World(client, alerts[0].id, alerts[1].id, alerts[2].id, ids[EAST], ids[WEST])


@pytest.fixture
def tokens(world: World, make_token: Callable[..., str]) -> dict[str, dict[str, str]]:
    """Headers per role: the admin token, and an operator, an east responder and an integrator token."""
    return {
        "admin": ADMIN_HEADERS,
        "operator": _bearer(make_token("operator")),
        "responder": _bearer(make_token("responder", responder_id=world.east_responder)),
        "integrator": _bearer(make_token("integrator")),
    }


def _audit(client: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    return client.get("/api/audit", params={"limit": 1000, **filters}).raise_for_status().json()


# --- who gets in ------------------------------------------------------------------------------------


def test_every_api_route_but_health_and_ingest_refuses_a_caller_without_a_valid_token(server: ServerThread) -> None:
    """Guards against a route (including one added later) that forgets its auth dependency."""
    routes = _api_routes(server)
    assert routes >= PUBLIC_API_ROUTES, "the public routes moved: update PUBLIC_API_ROUTES"
    guarded = sorted(routes - PUBLIC_API_ROUTES)
    assert len(guarded) >= 10
    with httpx.Client(base_url=server.url, timeout=5.0) as anonymous:
        for method, path in guarded:
            url = re.sub(r"\{[^}]+\}", "1", path)
            for headers in ({}, _bearer("not-a-token-0123456789"), {"Authorization": f"Basic {ADMIN_TOKEN}"}):
                response = anonymous.request(method, url, headers=headers)
                assert response.status_code == 401, f"{method} {path} with {headers}: {response.status_code}"
                assert response.headers["WWW-Authenticate"] == "Bearer"
        assert anonymous.get("/api/health").status_code == 200


def test_revoked_expired_and_orphaned_tokens_get_401(world: World, make_token: Callable[..., str],
                                                     server: ServerThread) -> None:
    """Guards against a token working after it was revoked, after it expired, or after its responder left."""
    client = world.client
    made = client.post("/api/tokens", json={"name": "desk", "role": "operator"}).raise_for_status().json()
    expiring = client.post("/api/tokens", json={
        "name": "temp", "role": "operator", "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()})
    expiring = expiring.raise_for_status().json()
    orphan = _bearer(make_token("responder", responder_id=world.west_responder))
    for headers in (_bearer(made["token"]), _bearer(expiring["token"]), orphan):
        assert client.get("/api/alerts", headers=headers).status_code == 200

    assert client.delete(f"/api/tokens/{made['id']}").status_code == 204
    with server.app.state.sessions() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(update(ApiTokenRow).where(ApiTokenRow.id == expiring["id"]).values(expires_at=past))
        session.commit()
    client.delete(f"/api/responders/{world.west_responder}").raise_for_status()

    for headers in (_bearer(made["token"]), _bearer(expiring["token"]), orphan):
        response = client.get("/api/alerts", headers=headers)
        assert response.status_code == 401, response.text
    assert client.delete(f"/api/tokens/{made['id']}").status_code == 204  # revoking again changes nothing
    assert client.delete("/api/tokens/999").status_code == 404
    revocations = _audit(client, entity="tokens", entity_id=str(made["id"]))
    assert [row["action"] for row in revocations] == ["revoke", "create"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", {"alerts": 200, "alert": 200, "ack": 200, "notifications": 200, "tokens": 201, "audit": 200}),
        ("operator", {"alerts": 200, "alert": 200, "ack": 200, "notifications": 200, "tokens": 403, "audit": 403}),
        ("responder", {"alerts": 200, "alert": 200, "ack": 200, "notifications": 403, "tokens": 403, "audit": 403}),
        ("integrator", {"alerts": 200, "alert": 200, "ack": 403, "notifications": 403, "tokens": 403, "audit": 403}),
    ],
)
def test_each_role_may_do_what_it_needs_and_no_more(
    world: World, tokens: dict[str, dict[str, str]], role: str, expected: dict[str, int]
) -> None:
    """Guards the role matrix on representative routes: reading alerts, acting on one, the outbox (phone
    numbers), tokens and the audit (admins only)."""
    headers, client, alert = tokens[role], world.client, world.east_alert
    got = {
        "alerts": client.get("/api/alerts", headers=headers).status_code,
        "alert": client.get(f"/api/alerts/{alert}", headers=headers).status_code,
        "ack": client.post(f"/api/alerts/{alert}/ack", headers=headers).status_code,
        "notifications": client.get("/api/notifications", headers=headers).status_code,
        "tokens": client.post("/api/tokens", headers=headers, json={"name": "x", "role": "admin"}).status_code,
        "audit": client.get("/api/audit", headers=headers).status_code,
    }

    assert got == expected
    denied = client.get("/api/tokens", headers=headers)
    assert denied.status_code == (200 if role == "admin" else 403)
    if role != "admin":
        assert f"role {role} may not do this" in denied.json()["detail"]
        assert len(client.get("/api/tokens").json()) == 3  # the fixture's three: nothing was issued


def test_integrators_see_that_someone_was_notified_but_not_the_numbers(
    world: World, tokens: dict[str, dict[str, str]], wait_until: Callable[..., Any]
) -> None:
    """Guards residents' and staff's phone numbers from test benches, which only check that a run worked."""
    wait_until(lambda: any(e["entry"] == "notification" for e in world.alert(world.east_alert)["timeline"]),
               message="no notification")

    seen = world.client.get(f"/api/alerts/{world.east_alert}", headers=tokens["integrator"]).json()

    notes = [e for e in seen["timeline"] if e["entry"] == "notification"]
    assert notes and all(e["to"] is None and e["recipient"] == f"responder:{world.east_responder}" for e in notes)
    assert all(e["to"] for e in world.alert(world.east_alert)["timeline"] if e["entry"] == "notification")


# --- community scope ---------------------------------------------------------------------------------


def test_responder_sees_and_acts_on_their_communitys_alerts_only(
    world: World, tokens: dict[str, dict[str, str]], server: ServerThread
) -> None:
    """Guards the acceptance check "a responder of another community → 403", and that a refused attempt
    changes nothing: no status, no transition, no audit row."""
    east, client = tokens["responder"], world.client
    actor = f"responder:{world.east_responder}"

    listed = client.get("/api/alerts", headers=east).json()
    other_home = client.get("/api/alerts", headers=east, params={"home": "h-west"}).json()
    responses = [
        client.get(f"/api/alerts/{world.west_alert}", headers=east),
        client.get(f"/api/alerts/{world.unregistered_alert}", headers=east),
        client.post(f"/api/alerts/{world.west_alert}/ack", headers=east),
        client.post(f"/api/alerts/{world.west_alert}/resolve", headers=east, json={"outcome": "false_alarm"}),
    ]

    assert [alert["id"] for alert in listed] == [world.east_alert]
    assert other_home == []
    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert all(r.json()["detail"] == "outside your communities" for r in responses)
    after = world.alert(world.west_alert)
    assert after["status"] in ("open", "notified")  # the dispatcher may have sent its first SMS meanwhile
    assert (after["acknowledged_by"], after["resolved_by"], after["outcome"]) == (None, None, None)
    with server.app.state.sessions() as session:
        by_them = select(func.count()).select_from(AlertTransitionRow).where(AlertTransitionRow.actor == actor)
        assert session.scalar(by_them) == 0
    assert _audit(client, actor=actor) == []
    assert client.get("/api/alerts/nope", headers=east).status_code == 404


def test_responder_token_with_extra_communities_sees_those_too(world: World, make_token: Callable[..., str]) -> None:
    """Guards a responder covering a neighbouring community (the token's `communities`)."""
    both = _bearer(make_token("responder", responder_id=world.east_responder, communities=(WEST,)))

    listed = {alert["id"] for alert in world.client.get("/api/alerts", headers=both).json()}

    assert listed == {world.east_alert, world.west_alert}


def test_acknowledgement_and_resolution_record_the_caller_not_what_the_request_claims(
    world: World, tokens: dict[str, dict[str, str]]
) -> None:
    """Guards the audit trail: the actor is the token's (`responder:<id>`), never a header or a body field,
    and each write has its audit row."""
    client, alert = world.client, world.east_alert
    claimed = {**tokens["responder"], "X-HomeSafe-Actor": "user:someone-else"}

    acked = client.post(f"/api/alerts/{alert}/ack", headers=claimed, json={"by": "user:alice"})
    resolved = client.post(f"/api/alerts/{alert}/resolve", headers=tokens["responder"],
                           json={"outcome": "resident_fine", "note": "all well"})

    actor = f"responder:{world.east_responder}"
    assert acked.status_code == 200, acked.text
    assert (acked.json()["acknowledged_by"], acked.json()["ack_channel"]) == (actor, "api")
    assert resolved.status_code == 200 and resolved.json()["resolved_by"] == actor
    kinds = {e["kind"]: e["actor"] for e in world.alert(alert)["timeline"] if e["entry"] == "transition"}
    assert kinds["acknowledged"] == kinds["resolved"] == actor
    resolve_row, ack_row = _audit(client, entity="alerts", entity_id=alert)
    assert (ack_row["actor"], ack_row["action"]) == (actor, "ack")
    assert ack_row["detail"] == {"fields": ["ack_channel", "acknowledged_at", "acknowledged_by", "status"],
                                 "channel": "api", "on_behalf_of": "user:alice"}
    assert (resolve_row["actor"], resolve_row["action"]) == (actor, "resolve")
    assert resolve_row["detail"]["fields"] == ["note", "outcome", "resolved_at", "resolved_by", "status"]
    assert "all well" not in str(resolve_row)  # field names, never values


def test_an_ack_that_changes_nothing_or_fails_leaves_no_audit_row(world: World) -> None:
    """Guards the audit against recording writes that did not happen (a repeat, a 409, a 404)."""
    client, alert = world.client, world.east_alert
    client.post(f"/api/alerts/{alert}/ack").raise_for_status()
    client.post(f"/api/alerts/{alert}/ack").raise_for_status()  # the same caller again: nothing changes
    client.post(f"/api/alerts/{alert}/resolve", json={"outcome": "other"}).raise_for_status()

    assert client.post(f"/api/alerts/{alert}/resolve", json={"outcome": "other"}).status_code == 409
    assert client.post(f"/api/alerts/{alert}/ack").status_code == 409
    assert client.post("/api/alerts/nope/ack").status_code == 404

    assert [row["action"] for row in _audit(client, entity="alerts")] == ["resolve", "ack"]


# --- tokens -----------------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_never_listed(world: World, server: ServerThread) -> None:
    """Guards the token's secret: in the 201 answer only, stored as a digest, absent from every listing."""
    client = world.client
    created = client.post("/api/tokens", json={
        "name": "east responder phone", "role": "responder", "responder_id": world.east_responder,
        "communities": [WEST]})

    assert created.status_code == 201, created.text
    body = created.json()
    secret = body.pop("token")
    assert secret.startswith("hs_") and len(secret) > 40
    assert body["role"] == "responder" and body["communities"] == [WEST] and body["created_by"] == "admin"
    listing = client.get("/api/tokens")
    assert secret not in listing.text and "digest" not in listing.text
    [listed] = listing.json()
    assert listed == body
    with server.app.state.sessions() as session:
        assert secret not in str(session.scalars(select(ApiTokenRow.digest)).all())
    me = client.get("/api/alerts", headers=_bearer(secret)).json()
    assert {alert["id"] for alert in me} == {world.east_alert, world.west_alert}
    [audited] = _audit(client, entity="tokens")
    assert (audited["actor"], audited["action"], audited["entity_id"]) == ("admin", "create", str(body["id"]))
    assert audited["detail"]["fields"] == ["communities", "name", "responder_id", "role"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "r", "role": "responder"}, "responder_id"),
        ({"name": "r", "role": "responder", "responder_id": 999}, "responder_id"),
        ({"name": "o", "role": "operator", "responder_id": 1}, "responder_id"),
        ({"name": "o", "role": "operator", "communities": [EAST]}, "communities"),
        ({"name": "o", "role": "operator", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "o", "role": "operator", "expires_at": "2099-01-01T00:00:00"}, "expires_at"),  # naive
        ({"name": "o", "role": "superuser"}, "role"),
        ({"name": "", "role": "operator"}, "name"),
        ({"role": "operator"}, "name"),
        ({"name": "o", "role": "operator", "token": "mine"}, "token"),
    ],
)
def test_bad_token_requests_are_refused_naming_the_field_and_issue_nothing(
    world: World, body: dict[str, Any], field: str
) -> None:
    """Guards token issuance against half-made or mis-scoped tokens (a responder token acting as nobody)."""
    response = world.client.post("/api/tokens", json=body)

    assert response.status_code == 422, response.text
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]
    assert world.client.get("/api/tokens").json() == []
    assert _audit(world.client, entity="tokens") == []


def test_admin_token_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, db_url: str, start_server: Callable[..., ServerThread]
) -> None:
    """Guards the acceptance interface: HOMESAFE_ADMIN_TOKEN opens the API as the admin; nothing else does."""
    token = "env-admin-token-0123456789abcdef"
    monkeypatch.setenv("HOMESAFE_ADMIN_TOKEN", token)
    server = start_server(ServerSettings.from_env(database_url=db_url, port=0))

    with httpx.Client(base_url=server.url, timeout=5.0) as http:
        assert http.get("/api/alerts").status_code == 401
        assert http.get("/api/alerts", headers=ADMIN_HEADERS).status_code == 401  # the test default is not it
        made = http.post("/api/tokens", headers=_bearer(token), json={"name": "n", "role": "operator"})
    assert made.status_code == 201 and made.json()["created_by"] == "admin"


def test_without_an_admin_token_the_api_stays_closed(
    settings: ServerSettings, start_server: Callable[..., ServerThread], make_token: Callable[..., str]
) -> None:
    """Guards against "no admin token configured" meaning "no auth": only database tokens open it."""
    server = start_server(replace(settings, admin_token=None))
    admin = _bearer(make_token("admin"))

    with httpx.Client(base_url=server.url, timeout=5.0) as http:
        assert http.get("/api/alerts").status_code == 401
        assert http.get("/api/alerts", headers={"Authorization": "Bearer"}).status_code == 401
        assert http.get("/api/alerts", headers=admin).status_code == 200
        assert http.get("/api/health").status_code == 200


# --- ingest -----------------------------------------------------------------------------------------


def test_ingest_with_a_token_set_takes_it_or_an_admin_or_integrator_token(
    settings: ServerSettings,
    start_server: Callable[..., ServerThread],
    make_token: Callable[..., str],
    new_alert: Callable[..., Alert],
) -> None:
    """Guards the gateway's door: its own token, a bench's integrator token or an admin's; nobody else."""
    server = start_server(replace(settings, ingest_token="gateway-secret-0123"))
    with httpx.Client(base_url=server.url, timeout=5.0, headers=ADMIN_HEADERS) as admin:
        body = {"name": "r", "phone": "+8613800000101", "community": EAST}
        responder_id = admin.post("/api/responders", json=body).raise_for_status().json()["id"]
    callers = {
        "ingest token": (_bearer("gateway-secret-0123"), 200),
        "admin": (ADMIN_HEADERS, 200),
        "integrator": (_bearer(make_token("integrator")), 200),
        "operator": (_bearer(make_token("operator")), 403),
        "responder": (_bearer(make_token("responder", responder_id=responder_id)), 403),
        "nobody": ({}, 401),
        "unknown": (_bearer("guess-0123456789"), 401),
    }
    with httpx.Client(base_url=server.url, timeout=5.0) as http:
        got = {
            name: http.post("/api/ingest/alerts", content=encode([new_alert()]), headers=headers).status_code
            for name, (headers, _expected) in callers.items()
        }
        stored = http.get("/api/alerts", headers=ADMIN_HEADERS).json()

    assert got == {name: expected for name, (_headers, expected) in callers.items()}
    assert len(stored) == 1  # one home and type: the accepted ones merged into one alert
    assert stored[0]["count"] == 3


# --- every write is audited -------------------------------------------------------------------------


def test_every_write_route_is_covered_by_the_audit_test(server: ServerThread) -> None:
    """Guards "every write is audited" against a new write route nobody checked: add it to
    AUDITED_WRITE_ROUTES and to `_writes` once it records its audit row."""
    writes = {(m, p) for m, p in _api_routes(server) if m in WRITE_METHODS} - PUBLIC_API_ROUTES

    assert writes == AUDITED_WRITE_ROUTES


@dataclass(frozen=True)
class Write:
    """One write through the API and the audit row it must leave."""

    method: str
    route: str
    url: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], Any] | None
    entity: str
    action: str
    remember: str | None = None  # keep the answer's `id` under this name for later writes


def _writes() -> list[Write]:
    def fixed(url: str) -> Callable[[dict[str, Any]], str]:
        return lambda _ids: url

    def body(value: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda _ids: value

    csv = (Path(__file__).parents[2] / "server" / "registry" / "examples" / "homes.csv").read_text()
    return [
        Write("POST", "/api/homes", fixed("/api/homes"), body({"id": "h-audit", "community": EAST}),
              "homes", "create"),
        Write("PATCH", "/api/homes/{home_id}", fixed("/api/homes/h-audit"), body({"address": "1 Road"}),
              "homes", "update"),
        Write("POST", "/api/responders", fixed("/api/responders"),
              body({"name": "V", "phone": "+8613800000555", "community": EAST}), "responders", "create", "responder"),
        Write("PATCH", "/api/responders/{responder_id}", lambda ids: f"/api/responders/{ids['responder']}",
              body({"on_duty": False}), "responders", "update"),
        Write("POST", "/api/residents", fixed("/api/residents"), body({"home": "h-audit", "name": "R"}),
              "residents", "create", "resident"),
        Write("PATCH", "/api/residents/{resident_id}", lambda ids: f"/api/residents/{ids['resident']}",
              body({"age": 81}), "residents", "update"),
        Write("POST", "/api/devices", fixed("/api/devices"),
              body({"home": "h-audit", "device_id": "btn-1", "type": "button"}), "devices", "create", "device"),
        Write("PATCH", "/api/devices/{device_id}", lambda ids: f"/api/devices/{ids['device']}",
              body({"room": "hall"}), "devices", "update"),
        Write("POST", "/api/contacts", fixed("/api/contacts"),
              body({"home": "h-audit", "name": "C", "phone": "+8613900000555"}), "contacts", "create", "contact"),
        Write("PATCH", "/api/contacts/{contact_id}", lambda ids: f"/api/contacts/{ids['contact']}",
              body({"order": 1}), "contacts", "update"),
        Write("POST", "/api/shifts", fixed("/api/shifts"),
              lambda ids: {"responder_id": ids["responder"], "days": [0], "start": "08:00", "end": "20:00"},
              "shifts", "create", "shift"),
        Write("PATCH", "/api/shifts/{shift_id}", lambda ids: f"/api/shifts/{ids['shift']}",
              body({"end": "21:00"}), "shifts", "update"),
        Write("POST", "/api/assignments", fixed("/api/assignments"),
              lambda ids: {"home": "h-audit", "responder_id": ids["responder"]}, "assignments", "create", "assignment"),
        Write("PATCH", "/api/assignments/{assignment_id}", lambda ids: f"/api/assignments/{ids['assignment']}",
              lambda ids: {"responder_id": ids["responder"], "home": "h-east"}, "assignments", "update"),
        Write("POST", "/api/visits", fixed("/api/visits"),
              lambda ids: {"home": "h-east", "responder_id": ids["responder"]}, "visits", "create"),
        Write("POST", "/api/import/{kind}", fixed("/api/import/homes"), body(csv), "homes", "import"),
        Write("POST", "/api/tokens", fixed("/api/tokens"), body({"name": "t", "role": "operator"}),
              "tokens", "create", "token"),
        Write("DELETE", "/api/tokens/{token_id}", lambda ids: f"/api/tokens/{ids['token']}", None, "tokens", "revoke"),
        Write("POST", "/api/alerts/{alert_id}/ack", lambda ids: f"/api/alerts/{ids['alert']}/ack", None,
              "alerts", "ack"),
        Write("POST", "/api/alerts/{alert_id}/resolve", lambda ids: f"/api/alerts/{ids['alert']}/resolve",
              body({"outcome": "false_alarm"}), "alerts", "resolve"),
        Write("DELETE", "/api/assignments/{assignment_id}", lambda ids: f"/api/assignments/{ids['assignment']}",
              None, "assignments", "delete"),
        Write("DELETE", "/api/shifts/{shift_id}", lambda ids: f"/api/shifts/{ids['shift']}", None, "shifts", "delete"),
        Write("DELETE", "/api/contacts/{contact_id}", lambda ids: f"/api/contacts/{ids['contact']}", None,
              "contacts", "delete"),
        Write("DELETE", "/api/devices/{device_id}", lambda ids: f"/api/devices/{ids['device']}", None,
              "devices", "delete"),
        Write("DELETE", "/api/residents/{resident_id}", lambda ids: f"/api/residents/{ids['resident']}", None,
              "residents", "delete"),
        Write("DELETE", "/api/responders/{responder_id}", lambda ids: f"/api/responders/{ids['responder']}", None,
              "responders", "delete"),
        Write("DELETE", "/api/homes/{home_id}", fixed("/api/homes/h-audit"), None, "homes", "delete"),
    ]


def test_every_write_through_the_api_leaves_an_audit_row(world: World) -> None:
    """Guards "every write is audited": each write route, called once successfully, adds an audit row
    naming the caller, the action and the entity."""
    client = world.client
    writes = _writes()
    assert {(w.method, w.route) for w in writes} == AUDITED_WRITE_ROUTES
    ids: dict[str, Any] = {"alert": world.east_alert}
    for write in writes:
        before = _audit(client)
        payload = write.body(ids) if write.body is not None else None
        if isinstance(payload, str):
            response = client.request(write.method, write.url(ids), content=payload,
                                      headers={"Content-Type": "text/csv"})
        else:
            response = client.request(write.method, write.url(ids), json=payload)
        assert response.is_success, f"{write.method} {write.route}: {response.status_code} {response.text}"
        if write.remember is not None:
            ids[write.remember] = response.json()["id"]
        after = _audit(client)
        added = after[: len(after) - len(before)]
        assert added, f"{write.method} {write.route} wrote without an audit row"
        assert (added[-1]["actor"], added[-1]["entity"]) == ("admin", write.entity), f"{write.route}: {added}"
        assert added[-1]["action"] == write.action, f"{write.route}: {added}"
