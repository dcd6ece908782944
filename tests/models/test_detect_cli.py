"""`homesafe detect falls FILE...`: JSON lines per alarm, clear errors for bad files, a non-zero exit at the end."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from homesafe import detect
from tests.models import synth

FS = 50.0
REPO = Path(__file__).resolve().parents[2]


def _write(path: Path, xyz: np.ndarray, fs: float = FS, t0: float = 0.0, header: str = "t,ax,ay,az") -> Path:
    t = t0 + np.arange(len(xyz)) / fs
    np.savetxt(path, np.column_stack([t, xyz]), delimiter=",", header=header, comments="", fmt="%.6f")
    return path


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = detect.build_parser().parse_args(argv)
    code = detect._cmd_detect_falls(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def fall_csv(tmp_path_factory) -> tuple[Path, float]:
    xyz, impact = synth.fall(np.random.default_rng(21))
    return _write(tmp_path_factory.mktemp("csv") / "fall.csv", xyz, t0=1000.0), 1000.0 + impact / FS


def test_prints_one_json_line_per_fall_with_the_stream_time(fall_csv, tmp_path):
    """Guards against the acceptance format drifting (keys, one line per alarm) or t lacking the latency."""
    path, t_impact = fall_csv
    walk = _write(tmp_path / "walk.csv", synth.activity("walk", 30.0, np.random.default_rng(2)))
    code, out, err = _run(["detect", "falls", str(path), str(walk)])
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 1
    assert set(lines[0]) == {"file", "t", "score"}
    assert lines[0]["file"] == str(path)
    assert 0 <= lines[0]["t"] - t_impact <= 2.0
    assert 0.5 <= lines[0]["score"] <= 1.0


def test_bad_files_are_named_on_stderr_and_the_rest_still_processed(fall_csv, tmp_path):
    """Guards against one bad file aborting a batch, or failing silently with exit code 0."""
    path, _ = fall_csv
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "noheader.csv").write_text("0.0,0,0,1\n0.02,0,0,1\n")
    (tmp_path / "text.csv").write_text("t,ax,ay,az\n0.0,0,0,1\n0.02,zero,0,1\n")
    (tmp_path / "backwards.csv").write_text("t,ax,ay,az\n0.0,0,0,1\n0.0,0,0,1\n")
    (tmp_path / "header_only.csv").write_text("t,ax,ay,az\n")
    bad = ["empty.csv", "noheader.csv", "text.csv", "backwards.csv", "header_only.csv", "missing.csv"]
    code, out, err = _run(["detect", "falls", *(str(tmp_path / b) for b in bad), str(path)])
    assert code == 1
    assert len(out.splitlines()) == 1 and json.loads(out)["file"] == str(path)
    errors = err.splitlines()
    assert len(errors) == len(bad)
    for name, line in zip(bad, errors, strict=True):
        assert name in line
    assert "empty" in errors[0] and "header" in errors[1] and "non-numeric" in errors[2]
    assert "increase" in errors[3] and "no samples" in errors[4] and "cannot read" in errors[5]


def test_columns_may_come_in_any_order(fall_csv, tmp_path):
    """Guards against a reordered header being read as the wrong axes or times."""
    path, _ = fall_csv
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    swapped = tmp_path / "swapped.csv"
    np.savetxt(swapped, data[:, [1, 0, 3, 2]], delimiter=",", header="ax,t,az,ay", comments="", fmt="%.6f")
    assert [json.loads(x)["t"] for x in _run(["detect", "falls", str(swapped)])[1].splitlines()] == \
           [json.loads(x)["t"] for x in _run(["detect", "falls", str(path)])[1].splitlines()]


def test_rate_is_inferred_from_t_or_overridden_with_fs(tmp_path):
    """Guards against a 100 Hz file being replayed as 50 Hz (every time and feature off by a factor 2)."""
    xyz50, impact = synth.fall(np.random.default_rng(22))
    t50 = np.arange(len(xyz50)) / FS
    t100 = np.arange(0, t50[-1], 0.01)
    xyz100 = np.column_stack([np.interp(t100, t50, xyz50[:, c]) for c in range(3)])
    path = _write(tmp_path / "fall100.csv", xyz100, fs=100.0)
    inferred = [json.loads(x) for x in _run(["detect", "falls", str(path)])[1].splitlines()]
    assert len(inferred) == 1 and 0 <= inferred[0]["t"] - impact / FS <= 2.05
    forced = [json.loads(x) for x in _run(["detect", "falls", "--fs", "100", str(path)])[1].splitlines()]
    assert forced == inferred
    code, _, err = _run(["detect", "falls", "--fs", "0", str(path)])
    assert code == 2 and "--fs" in err


def test_still_down_lines_carry_a_stage(tmp_path):
    """Guards against the optional escalation being indistinguishable from a second fall."""
    xyz, _ = synth.fall(np.random.default_rng(23), post_s=40.0)
    path = _write(tmp_path / "down.csv", xyz)
    lines = [json.loads(x) for x in _run(["detect", "falls", "--still-down", "30", str(path)])[1].splitlines()]
    assert [x.get("stage") for x in lines] == [None, "still_down"]


def test_runs_as_a_module_in_a_subprocess_with_progress(fall_csv, tmp_path):
    """Guards against the command only working in-process (imports, entry point, exit code, stderr progress)."""
    path, _ = fall_csv
    (tmp_path / "bad.csv").write_text("nonsense\n")
    files = [str(path)] * 3 + [str(tmp_path / "bad.csv")]
    proc = subprocess.run([sys.executable, "-m", "homesafe.detect", "detect", "falls", "--progress", "always",
                           *files], capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    assert proc.returncode == 1
    assert len(proc.stdout.splitlines()) == 3
    assert "bad.csv" in proc.stderr and "done, 4 files" in proc.stderr


def test_detect_is_a_group_other_modules_can_extend():
    """Guards against `detect inactivity` (another module) being impossible to add next to `detect falls`."""
    parser = argparse.ArgumentParser(prog="homesafe")
    sub = parser.add_subparsers(dest="command", required=True)
    detect.add_detect_parser(sub)
    detect.add_train_parser(sub)
    other = detect.command_group(sub, "detect").add_parser("inactivity")
    other.add_argument("files", nargs="+")
    other.set_defaults(func="inactivity")
    assert parser.parse_args(["detect", "inactivity", "x.csv"]).func == "inactivity"
    assert parser.parse_args(["detect", "falls", "x.csv"]).func is detect._cmd_detect_falls
    assert parser.parse_args(["train", "falls", "--seed", "3"]).seed == 3
    with pytest.raises(SystemExit):
        parser.parse_args(["detect"])


def test_train_without_data_says_where_it_looked(tmp_path, capsys):
    """Guards against a missing dataset producing a traceback instead of a clear message."""
    code = detect.main(["train", "falls", "--data", str(tmp_path), "--out", str(tmp_path / "m.json")])
    assert code == 2
    assert str(tmp_path) in capsys.readouterr().err
