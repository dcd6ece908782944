"""Device health is sent when it changes, not with every message; silent devices are reported once."""

from edge.health import HealthFilter, SilenceWatch


def test_health_passes_on_change_or_after_the_refresh_period_only() -> None:
    health = HealthFilter(refresh_s=3600)
    assert health.worth_sending("pir", {"battery": 90, "linkquality": 100}, now=0)
    assert not health.worth_sending("pir", {"battery": 90, "linkquality": 40}, now=10)  # link quality jitters
    assert health.worth_sending("pir", {"battery": 89, "linkquality": 40}, now=20)
    assert health.worth_sending("pir", {"battery": 89, "tamper": True}, now=30)
    assert not health.worth_sending("pir", {"battery": 89, "tamper": True}, now=40)
    assert health.worth_sending("pir", {"battery": 89, "tamper": True}, now=3700)


def test_silence_is_reported_once_per_episode_and_a_message_ends_it() -> None:
    watch = SilenceWatch({"smoke": 100.0, "bed": 10.0}, now=0)
    assert watch.newly_silent(5) == []
    assert watch.newly_silent(11) == [("bed", 11)]
    assert watch.newly_silent(50) == []  # already reported
    assert watch.heard("bed", 51) is True  # back: the caller reports it resumed
    assert watch.heard("bed", 52) is False
    assert sorted(d for d, _ in watch.newly_silent(101)) == ["bed", "smoke"]
    assert watch.next_check(101) >= 1.0
