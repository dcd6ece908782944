"""The minimal registry and health routes (server/api/routes/{homes,responders,health}.py)."""

from __future__ import annotations

import httpx
import pytest


def test_home_is_registered_then_moved_to_another_community(client: httpx.Client) -> None:
    """Guards the upsert the demo relies on: posting a home twice updates it instead of failing."""
    first = client.post("/api/homes", json={"id": "h0001", "community": "east", "address": "1 Lane"})
    second = client.post("/api/homes", json={"id": "h0001", "community": "west"})

    assert first.status_code == second.status_code == 200
    assert client.get("/api/homes").json() == [{"id": "h0001", "community": "west", "address": None}]
    assert client.get("/api/homes", params={"community": "east"}).json() == []


def test_responder_is_added_and_listed(client: httpx.Client) -> None:
    """Guards the call list: a posted responder is stored with its duty flag defaulting to on."""
    response = client.post("/api/responders", json={"name": "Wang", "phone": "+8613800000001", "community": "east"})

    assert response.status_code == 201
    created = response.json()
    assert created["on_duty"] is True
    assert client.get("/api/responders").json() == [created]
    assert client.get("/api/responders", params={"community": "west"}).json() == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/homes", {"id": "h/1", "community": "east"}, "id"),
        ("/api/homes", {"id": "h1"}, "community"),
        ("/api/responders", {"name": "Wang", "phone": "13800000001", "community": "east"}, "phone"),
        ("/api/responders", {"name": "", "phone": "+8613800000001", "community": "east"}, "name"),
    ],
    ids=["home-id-with-slash", "home-without-community", "phone-not-e164", "empty-name"],
)
def test_invalid_registry_input_is_422_naming_the_field(
    client: httpx.Client, path: str, body: dict[str, str], field: str
) -> None:
    """Guards against unusable registry rows (a phone no provider takes, a home id no topic can carry)."""
    response = client.post(path, json=body)

    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]
    assert client.get(path).json() == []


def test_health_answers_ok(client: httpx.Client) -> None:
    """Guards the probe that load balancers and start-up waits use."""
    assert client.get("/api/health").json() == {"status": "ok"}
