"""Server settings (server/config.py) and the notifier choice (server/notifiers/__init__.py)."""

from __future__ import annotations

import io

import pytest

from server.config import ServerSettings
from server.notifiers import ConsoleOutbox, make_notifier


def test_settings_come_from_the_environment_and_overrides_win(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the CLI's path: env vars apply, given flags win, flags left out (None) do not erase env."""
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", "sqlite:////var/lib/homesafe/hs.db")
    monkeypatch.setenv("HOMESAFE_INGEST_TOKEN", "from-env")
    monkeypatch.setenv("HOMESAFE_OPERATOR_PHONE", "+8610000000000")

    settings = ServerSettings.from_env(port=9000, ingest_token=None, operator_phone="+8610000000001")

    assert settings.database_url == "sqlite:////var/lib/homesafe/hs.db"
    assert settings.ingest_token == "from-env"
    assert settings.operator_phone == "+8610000000001"
    assert settings.port == 9000
    assert "from-env" not in repr(settings)  # secrets stay out of logs


def test_settings_without_environment_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards zero set-up: nothing set means a local SQLite file and the console outbox."""
    for name in ("DATABASE_URL", "INGEST_TOKEN", "OPERATOR_PHONE"):
        monkeypatch.delenv(f"HOMESAFE_{name}", raising=False)

    assert ServerSettings.from_env() == ServerSettings()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prot": 1}, "unknown server settings"),
        ({"port": 70000}, "out of range"),
        ({"dispatch_interval_s": 0}, "dispatch_interval_s"),
        ({"operator_phone": ""}, "operator_phone"),
    ],
)
def test_bad_settings_are_refused_at_start_up(overrides: dict[str, object], message: str) -> None:
    """Guards against a typo or a nonsense value surfacing only when the first alert arrives."""
    with pytest.raises((TypeError, ValueError), match=message):
        ServerSettings.from_env(**overrides)


def test_notifier_is_chosen_by_name() -> None:
    """Guards the names the CLI accepts: console works, a typo lists the choices."""
    assert isinstance(make_notifier(ServerSettings()), ConsoleOutbox)
    with pytest.raises(ValueError, match=r"unknown notifier 'twillio'; expected one of \['console', 'twilio'\]"):
        make_notifier(ServerSettings(notifier="twillio"))


def test_console_outbox_writes_one_line_per_message_with_distinct_ids() -> None:
    """Guards what a person watching the demo sees, and the provider ids stored per message."""
    stream = io.StringIO()
    outbox = ConsoleOutbox(stream)

    ids = [outbox.send(to="+8613800000001", channel="sms", body=f"message {i}") for i in range(2)]

    assert ids == ["console-1", "console-2"]
    assert stream.getvalue() == "[outbox] SMS to +8613800000001: message 0\n[outbox] SMS to +8613800000001: message 1\n"
