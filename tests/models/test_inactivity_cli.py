"""`homesafe detect inactivity FILE` (and `train inactivity`): JSON lines, replay clock, errors, wiring."""

from __future__ import annotations

import argparse
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from homesafe import detect, detect_inactivity
from models.inactivity.evaluation import replay
from tests.models.test_inactivity_homes import ADL_DATA, local, ordinary_days

REPO = Path(__file__).resolve().parents[2]


def _write(path: Path, events, header: str = "ts,sensor,kind,value,room,activity", extra: str = ",Hall,x") -> Path:
    lines = [header] + [f"{ts:.6f},{s},{k},{v}{extra}" for ts, s, k, v in events]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def _run(argv: list[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="homesafe")
    sub = parser.add_subparsers(dest="command", required=True)
    detect_inactivity.add_parsers(sub)
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code = detect_inactivity._cmd_detect(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def collapse_events():
    """Nine ordinary scripted days, then the resident stops moving at 14:00 on the ninth."""
    return [e for e in ordinary_days(9, seed=3) if e[0] < local(8, 14.0)]


def _with_beats(events, hours: float = 8.0):
    last = events[-1][0]
    return [*events, *((last + k * 600.0, "", "heartbeat", "") for k in range(1, int(hours * 6) + 1))]


def test_prints_one_json_line_per_alarm_with_ts_type_since(collapse_events, tmp_path):
    """Guards against the acceptance format drifting (keys, one line per alarm) or disagreeing with the library."""
    collapse_events = _with_beats(collapse_events)
    path = _write(tmp_path / "home.csv.gz", collapse_events)
    code, out, err = _run(["detect", "inactivity", str(path)])
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    expected = [a.as_line() for a in replay(collapse_events)]
    assert lines == expected and len(lines) >= 1
    assert all(set(line) == {"ts", "type", "since"} for line in lines)
    last_activity = max(ts for ts, _, kind, _ in collapse_events if kind != "heartbeat")
    assert lines[-1]["type"] == "INACTIVITY" and lines[-1]["since"] == round(last_activity, 3)


def test_the_replay_clock_is_the_rows_and_never_goes_past_the_last(collapse_events, tmp_path):
    """Guards against look-ahead: a silence is alarmed only when a later row (an event or a heartbeat) shows the
    clock passed its deadline, stamped at the deadline; a file that ends before it raises nothing."""
    last = collapse_events[-1][0]
    short = _write(tmp_path / "short.csv", [*collapse_events, (last + 1800.0, "", "heartbeat", "")])
    code, out, _ = _run(["detect", "inactivity", str(short)])
    assert code == 0 and out == ""
    beats = [(last + k * 600.0, "", "heartbeat", "") for k in range(1, 40)]
    path = _write(tmp_path / "beats.csv", [*collapse_events, *beats])
    code, out, _ = _run(["detect", "inactivity", str(path), "--evidence"])
    line = json.loads(out.splitlines()[-1])
    assert code == 0 and line["type"] == "INACTIVITY"
    assert line["ts"] == pytest.approx(last + line["evidence"]["threshold_s"], abs=0.1)
    revealing = min(ts for ts, *_ in beats if ts >= line["ts"])
    assert line["ts"] <= revealing


def test_extra_columns_any_order_and_plain_or_gzip_give_the_same_alarms(collapse_events, tmp_path):
    """Guards against column position or compression changing what is read."""
    collapse_events = _with_beats(collapse_events)
    a = _write(tmp_path / "a.csv", collapse_events)
    lines = ["kind,room,value,ts,sensor"] + [f"{k},Hall,{v},{ts:.6f},{s}" for ts, s, k, v in collapse_events]
    b = tmp_path / "b.csv.gz"
    b.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    assert _run(["detect", "inactivity", str(a)])[1] == _run(["detect", "inactivity", str(b)])[1] != ""


def test_bad_rows_are_named_and_skipped_and_make_the_exit_code_1(collapse_events, tmp_path):
    """Guards against one bad row aborting a months-long replay, or being skipped silently with exit code 0."""
    rows = [f"{ts:.6f},{s},{k},{v}" for ts, s, k, v in collapse_events]
    rows.insert(5, "not-a-time,Fridge,door,1")
    rows.insert(9, f"{collapse_events[8][0]:.6f},Fridge,teleport,1")
    rows.insert(12, f"{collapse_events[10][0]:.6f},Fridge,door,7")
    rows.insert(15, f"{collapse_events[0][0] - 5:.6f},Fridge,door,1")
    rows.insert(18, "1700000000.0,Fridge")
    path = tmp_path / "bad.csv"
    path.write_text("ts,sensor,kind,value\n" + "\n".join(rows) + "\n")
    code, out, err = _run(["detect", "inactivity", str(path)])
    assert code == 1
    assert [json.loads(line) for line in out.splitlines()] == [a.as_line() for a in replay(collapse_events)]
    errors = err.splitlines()
    assert len(errors) == 5
    for line_no, words in ((7, "not a number"), (11, "teleport"), (14, "not 0 or 1"), (17, "earlier"),
                           (20, "columns")):
        assert any(f"line {line_no}:" in e and words in e and "bad.csv" in e for e in errors), (line_no, errors)


@pytest.mark.parametrize(("content", "words"), [
    ("", "empty"),
    ("time,who,what\n1,2,3\n", "header"),
    (None, "cannot read"),
])
def test_unusable_files_exit_2_with_a_clear_message(tmp_path, content, words):
    """Guards against a missing or headerless file producing a traceback or an empty success."""
    path = tmp_path / "f.csv"
    if content is not None:
        path.write_text(content)
    code, out, err = _run(["detect", "inactivity", str(path)])
    assert code == 2 and out == ""
    assert words in err and "f.csv" in err


def test_registers_through_command_group_beside_falls():
    """Guards against `detect inactivity` replacing `detect falls` (or failing) when both modules add commands."""
    parser = argparse.ArgumentParser(prog="homesafe")
    sub = parser.add_subparsers(dest="command", required=True)
    detect.add_detect_parser(sub)
    detect.add_train_parser(sub)
    detect_inactivity.add_parsers(sub)
    assert parser.parse_args(["detect", "falls", "x.csv"]).func is not None
    assert parser.parse_args(["detect", "inactivity", "x.csv"]).func is detect_inactivity._cmd_detect
    assert parser.parse_args(["train", "inactivity", "--seed", "3"]).seed == 3
    other = argparse.ArgumentParser(prog="homesafe")
    sub = other.add_subparsers(dest="command", required=True)
    detect_inactivity.add_parsers(sub)  # first, then the falls group joins it
    detect.add_detect_parser(sub)
    assert other.parse_args(["detect", "falls", "x.csv"]).func is not None


def test_module_runs_as_a_command_on_a_real_home():
    """Guards against the command failing end to end (process, real file, exit code)."""
    path = ADL_DATA / "kasteren_a.csv.gz"
    if not path.is_file():
        pytest.skip(f"real ADL data absent: {path}")
    done = subprocess.run([sys.executable, "-m", "homesafe.detect_inactivity", "detect", "inactivity", str(path)],
                          cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # no false alarm on this home


def test_train_writes_a_loadable_artifact_report_and_plot(tmp_path):
    """Guards against `homesafe train inactivity` writing an artifact the detector cannot load, or no report."""
    from models.inactivity import InactivityMonitor, load_prior
    from models.inactivity.prior import artifact_card

    result = detect_inactivity.train(seed=5, homes=1, eval_homes=1, data=tmp_path / "no-data", workers=1,
                                     trained_on="2026-01-01")
    path = detect_inactivity.save_artifact(result, tmp_path / "inactivity.json")
    prior = load_prior(path)
    assert prior["version"] == "inactivity-prior-5" and artifact_card(path)["seed"] == 5
    InactivityMonitor(prior=prior).on_event(1_700_000_000.0, "pir", "motion", 1)
    pytest.importorskip("matplotlib")
    paths = detect_inactivity.write_report(result, tmp_path / "report")
    assert {p.name for p in paths} == {"report.json", "report.md", "inactivity.png"}
    assert (tmp_path / "report" / "inactivity.png").stat().st_size > 10_000
    assert "no activity for 12 h" in (tmp_path / "report" / "report.md").read_text()
