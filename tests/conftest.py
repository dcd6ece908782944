"""Shared fixtures: a real MQTT broker for the session, unique ids per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.protocol import BrokerSettings
from simulators.mosquitto import SYSTEM_BROKER, MosquittoProcess, broker_answers, find_binary
from tests.harness import LoopThread

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def broker() -> Iterator[BrokerSettings]:
    """A real broker: $HOMESAFE_TEST_MQTT_URL, else one answering on 127.0.0.1:1883, else a private Mosquitto."""
    url = os.environ.get("HOMESAFE_TEST_MQTT_URL")
    if url:
        yield BrokerSettings.from_url(url)
        return
    if broker_answers(*SYSTEM_BROKER):
        yield BrokerSettings(host=SYSTEM_BROKER[0], port=SYSTEM_BROKER[1])
        return
    if find_binary() is None:
        pytest.fail("no MQTT broker: nothing answers on 127.0.0.1:1883 and mosquitto is not installed; "
                    "run `make test`, which installs it")
    with MosquittoProcess() as mosquitto:
        yield BrokerSettings(port=mosquitto.port)


@pytest.fixture
def private_broker() -> Iterator[MosquittoProcess]:
    """A Mosquitto of this test alone, which the test may stop and start (outages)."""
    with MosquittoProcess() as mosquitto:
        yield mosquitto


@pytest.fixture
def home_id() -> str:
    """A home id no other test (or earlier run on a shared broker) uses."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.close()
