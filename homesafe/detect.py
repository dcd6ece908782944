"""`homesafe detect ...` and `homesafe train ...`: offline detectors over files, and model training.

`cli.py` wires these groups in with `add_detect_parser(sub)` and `add_train_parser(sub)`. Each is a group of
sub-subcommands; another module adds its own detector with `command_group(sub, "detect").add_parser(...)`
(e.g. `detect inactivity`). `python -m homesafe.detect detect falls FILE...` runs the same commands alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from models.falls import FallDetector
    from models.falls.training import TrainingResult

CSV_COLUMNS = ("t", "ax", "ay", "az")
PROGRESS_EVERY_S = 2.0
DEFAULT_REPORT_DIR = "build/falls-report"
_SUBCOMMANDS_ATTR = "_homesafe_subcommands"


class InputFileError(ValueError):
    """A file that cannot be read as a `t,ax,ay,az` CSV; the message says why."""


def _say(stream: IO[str], text: str) -> None:
    """One line to stdout or stderr, flushed (the CLI's only output path)."""
    stream.write(text + "\n")
    stream.flush()


# -- parser wiring ---------------------------------------------------------------------------------------------


def command_group(subparsers: argparse._SubParsersAction, name: str, help_text: str | None = None
                  ) -> argparse._SubParsersAction:
    """The sub-subcommand action of group `name` (e.g. "detect"), created on first use.

    Lets several modules add commands to one group: `command_group(sub, "detect").add_parser("inactivity")`.
    """
    parser = subparsers.choices.get(name)
    if parser is None:
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        action = parser.add_subparsers(dest=f"{name}_command", required=True, metavar="WHAT")
        setattr(parser, _SUBCOMMANDS_ATTR, action)
    action = getattr(parser, _SUBCOMMANDS_ATTR, None)
    if action is None:
        raise ValueError(f"subcommand {name!r} exists but is not a command group")
    return action


def add_detect_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `detect` (a group) with `detect falls` to the top-level subparsers."""
    group = command_group(subparsers, "detect", "run a detector over recorded files")
    falls = group.add_parser(
        "falls", help="replay accelerometer CSVs (t,ax,ay,az in s and g) as streams; one JSON line per fall alarm",
        description="Replays each FILE as a live stream in chunks and prints one JSON line per fall alarm, "
                    '{"file": FILE, "t": T, "score": S}, where T is the stream time at which the alarm is raised '
                    "(impact + latency). Bad files are reported on stderr and make the exit code 1; the other "
                    "files are still processed.")
    falls.add_argument("files", nargs="+", metavar="FILE", help="CSV with header t,ax,ay,az (any device orientation)")
    falls.add_argument("--fs", type=float, default=None,
                       help="sample rate in Hz; samples are then taken as evenly spaced from the first t "
                            "(default: inferred from t)")
    falls.add_argument("--model", default=None, help="detector artifact (default: the shipped falls.json)")
    falls.add_argument("--chunk-s", type=float, default=1.0, help="replay chunk length in seconds (default 1)")
    falls.add_argument("--still-down", type=float, default=None, metavar="SECONDS",
                       help='also print a second alarm with "stage": "still_down" when the wearer is still '
                            "lying SECONDS after the impact")
    falls.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                       help="progress lines on stderr (auto: for more than 100 files)")
    falls.set_defaults(func=_cmd_detect_falls)


def add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `train` (a group) with `train falls` to the top-level subparsers."""
    group = command_group(subparsers, "train", "train a detector and write its artifact and report")
    falls = group.add_parser(
        "falls", help="train the fall detector on shared/data/falls (UMAFall + MobiFall)",
        description="Cross-validates by subject, fits the detector on every clean recording, writes the JSON "
                    "artifact (with its model card) and a report (JSON, Markdown, PNG).")
    falls.add_argument("--data", default=None,
                       help="the falls data folder (default $HOMESAFE_FALLS_DATA or ../shared/data/falls)")
    falls.add_argument("--seed", type=int, default=0, help="seed of rotations, folds and trees (default 0)")
    falls.add_argument("--out", default=None, help="artifact path (default: the shipped models/artifacts/falls.json)")
    falls.add_argument("--report", default=DEFAULT_REPORT_DIR, help=f"report folder (default {DEFAULT_REPORT_DIR})")
    falls.add_argument("--folds", type=int, default=5, help="subject-grouped CV folds (default 5)")
    falls.add_argument("--trained-on", default=None, metavar="YYYY-MM-DD",
                       help="date for the model card (default today, UTC); fix it to reproduce an artifact byte "
                            "for byte")
    falls.set_defaults(func=_cmd_train_falls)


# -- detect falls ----------------------------------------------------------------------------------------------


def read_accel_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(t, xyz) from a CSV with header t,ax,ay,az (columns in any order); InputFileError says what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read: {exc}") from None
    header, _, body = text.partition("\n")
    names = [h.strip().lower() for h in header.strip().split(",")]
    if not header.strip():
        raise InputFileError("empty file; expected a header line t,ax,ay,az and one sample per line")
    if sorted(names) != sorted(CSV_COLUMNS):
        raise InputFileError(f"header is {header.strip()[:80]!r}; expected the columns t,ax,ay,az "
                             "(seconds, and acceleration in g)")
    if not body.strip():
        raise InputFileError("no samples after the header")
    try:
        data = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise InputFileError(f"non-numeric or ragged data: {str(exc).splitlines()[0]}; expected 4 numbers a "
                             "line") from None
    if data.size == 0:
        raise InputFileError("no samples after the header")
    if data.shape[1] != 4:
        raise InputFileError(f"expected 4 columns, got {data.shape[1]}")
    if not np.isfinite(data).all():
        raise InputFileError("holds NaN or infinite values")
    order = [names.index(c) for c in CSV_COLUMNS]
    t, xyz = data[:, order[0]], data[:, order[1:]]
    if len(t) > 1 and not np.all(np.diff(t) > 0):
        raise InputFileError("t does not increase strictly; sort the samples by time and drop duplicates")
    return t, xyz


def detect_file(detector: FallDetector, path: str | Path, *, fs: float | None, chunk_s: float = 1.0,
                still_down_s: float | None = None) -> list[dict[str, Any]]:
    """Replay one CSV as a stream in chunks; the alarms as JSON-ready dicts."""
    from models.falls import STAGE_IMPACT, infer_rate

    t, xyz = read_accel_csv(path)
    if fs is not None:
        t = t[0] + np.arange(len(t)) / fs
        rate = fs
    elif len(t) < 2:
        return []
    else:
        rate = infer_rate(t)
    try:
        stream = detector.stream(rate, still_down_s=still_down_s)
    except ValueError as exc:
        raise InputFileError(str(exc)) from None
    step = max(1, round(chunk_s * rate))
    out = []
    for lo in range(0, len(t), step):
        for alarm in stream.push(t[lo:lo + step], xyz[lo:lo + step]):
            line: dict[str, Any] = {"file": str(path), "t": round(alarm.t, 6), "score": round(alarm.score, 4)}
            if alarm.stage != STAGE_IMPACT:
                line["stage"] = alarm.stage
            out.append(line)
    return out


def _cmd_detect_falls(args: argparse.Namespace, *, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    from models.falls import FallDetector

    out = out or sys.stdout
    err = err or sys.stderr
    if args.fs is not None and not args.fs > 0:
        _say(err, f"homesafe detect falls: --fs must be a positive rate in Hz, got {args.fs}")
        return 2
    try:
        detector = FallDetector.from_artifact(args.model)
    except (OSError, ValueError, KeyError) as exc:
        _say(err, f"homesafe detect falls: cannot load the model {args.model or '(shipped)'}: {exc}")
        return 2
    files = args.files
    show = args.progress == "always" or (args.progress == "auto" and len(files) > 100)
    started = last = time.monotonic()
    errors = alarms = 0
    for n, path in enumerate(files, 1):
        try:
            lines = detect_file(detector, path, fs=args.fs, chunk_s=args.chunk_s, still_down_s=args.still_down)
        except InputFileError as exc:
            errors += 1
            _say(err, f"homesafe detect falls: {path}: {exc}")
            continue
        for line in lines:
            out.write(json.dumps(line) + "\n")
        alarms += len(lines)
        now = time.monotonic()
        if show and now - last >= PROGRESS_EVERY_S:
            last = now
            _say(err, f"detect falls: {n}/{len(files)} files, {alarms} alarms, {errors} bad files, "
                  f"{n / (now - started):.0f} files/s")
    out.flush()
    if show:
        elapsed = time.monotonic() - started
        _say(err, f"detect falls: done, {len(files)} files in {elapsed:.1f} s, {alarms} alarms, {errors} bad files")
    return 1 if errors else 0


# -- train falls -----------------------------------------------------------------------------------------------


def default_falls_data() -> Path:
    """$HOMESAFE_FALLS_DATA, else shared/data/falls beside the repository (../shared/data/falls)."""
    env = os.environ.get("HOMESAFE_FALLS_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[1]
    return here.parent / "shared" / "data" / "falls"


def shipped_artifact_path() -> Path:
    """Where the shipped default model lives in the source tree."""
    import models

    return Path(models.__file__).resolve().parent / "artifacts" / "falls.json"


def _cmd_train_falls(args: argparse.Namespace) -> int:
    from models.falls.training import load_recordings, train

    data = Path(args.data) if args.data else default_falls_data()
    if not (data / "load.py").is_file():
        _say(sys.stderr, f"homesafe train falls: no falls data at {data} (expected load.py, index.csv, "
             "falls_50hz.npz); give --data DIR or set HOMESAFE_FALLS_DATA")
        return 2
    started = time.monotonic()

    def say(line: str) -> None:
        _say(sys.stderr, f"train falls [{time.monotonic() - started:5.1f} s] {line}")

    trained_on = args.trained_on or dt.datetime.now(dt.UTC).date().isoformat()
    recs = load_recordings(data)
    say(f"loaded {len(recs)} recordings from {data}")
    result = train(recs, seed=args.seed, folds=args.folds, trained_on=trained_on, progress=say)
    out = Path(args.out) if args.out else shipped_artifact_path()
    result.detector.save(out)
    say(f"artifact {out} ({out.stat().st_size / 1024:.1f} KB)")
    paths = write_report(result, Path(args.report))
    say("report " + ", ".join(str(p) for p in paths))
    _say(sys.stdout, summary_table(result.report))
    return 0


def summary_table(report: dict[str, Any]) -> str:
    """The cross-validated figures as a Markdown table (overall, per position, per dataset, subsets)."""
    cv = report["cv"]
    rows = [("all", cv["overall"])]
    rows += [(p, m) for p, m in cv["by_position"].items()]
    rows += [(d, m) for d, m in cv["by_dataset"].items()]
    rows += [("everyday ADL", cv["everyday_adl"]), ("ADL of UMA01/UMA03 (67, 68)", cv["older_adults_adl"])]

    def f(v: Any, pct: bool = False) -> str:
        if v is None:
            return "-"
        return f"{100 * v:.1f}%" if pct else f"{v:g}"

    lines = ["| subset | falls | ADL h | sensitivity | specificity | false alarms/h | F1 | latency median / max (s) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, m in rows:
        lines.append(f"| {name} | {m['falls']} | {m['adl_hours']:.2f} | {f(m['sensitivity'], True)} | "
                     f"{f(m['specificity'], True)} | {f(m['false_alarms_per_h'])} | {f(m['f1'])} | "
                     f"{f(m['latency_s_median'])} / {f(m['latency_s_max'])} |")
    return "\n".join(lines)


def write_report(result: TrainingResult, folder: Path) -> list[Path]:
    """report.json, report.md and (when matplotlib is installed) falls_cv.png in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "report.json", folder / "report.md"]
    paths[0].write_text(json.dumps(result.report, indent=1) + "\n", encoding="utf-8")
    card = result.report["model_card"]
    cv = result.report["cv"]
    md = [f"# Fall detector {card['version']}", "", f"Cross-validation: {cv['scheme']}.", "",
          summary_table(result.report), "",
          f"Operating point: {card['operating_point']['rule']}; fold thresholds {cv['fold_thresholds']}; "
          f"shipped threshold {card['operating_point']['threshold_raw']:.4f}; decision "
          f"{card['operating_point']['decision_latency_s']} s after impact.", "",
          f"False alarms by activity: {cv['false_alarms_by_activity']}", "",
          f"Missed falls by activity: {cv['missed_falls_by_activity']}", "",
          f"Rotation check: {card['rotation_check']}", "", "Caveats:", ""]
    md += [f"- {c}" for c in card["caveats"]]
    paths[1].write_text("\n".join(md) + "\n", encoding="utf-8")
    try:
        paths.append(_plot(result, folder / "falls_cv.png"))
    except ImportError:
        _say(sys.stderr, "homesafe train falls: matplotlib is not installed, no plot written "
              "(pip install -e '.[plot]')")
    return paths


def _plot(result: TrainingResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = result.curves
    positions = ("waist", "chest", "wrist", "thigh_pocket")
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    ax = axes[0]
    for name in ("all", *positions):
        c = curves[name]
        ax.plot(c["false_alarms_per_h"], c["sensitivity"], lw=2.5 if name == "all" else 1.3, label=name)
        k = int(np.argmin(np.abs(np.asarray(c["threshold"]))))
        ax.plot(c["false_alarms_per_h"][k], c["sensitivity"][k], "ko", ms=4)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlim(0, 200)
    ax.set_ylim(0.5, 1.0)
    ax.set_xlabel("false alarms per hour of ADL (symlog)")
    ax.set_ylabel("sensitivity (fall recordings alarmed)")
    ax.set_title("Subject-grouped CV: sensitivity vs false alarms\n(dots: the operating point)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)

    ax = axes[1]
    rec = curves["records"]
    adl = curves["adl_candidates"]
    bins = np.linspace(-12, 8, 61)
    for k, p in enumerate(positions):
        falls = [b for b, f, q in zip(rec["best"], rec["fall"], rec["position"], strict=True)
                 if f and q == p and b is not None]
        negs = [s for s, q in zip(adl["score"], adl["position"], strict=True) if q == p]
        color = f"C{k + 1}"
        ax.hist(np.clip(falls, bins[0], bins[-1]), bins=bins, histtype="step", color=color, lw=1.5,
                label=f"{p} falls")
        ax.hist(np.clip(negs, bins[0], bins[-1]), bins=bins, histtype="step", color=color, ls=":", lw=1.5,
                label=f"{p} ADL candidates")
    ax.axvline(0, color="k", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("out-of-fold score minus the fold's threshold (log-odds)")
    ax.set_ylabel("count")
    ax.set_title("Score distributions by position")
    ax.legend(fontsize=7, ncol=2)

    ax = axes[2]
    cv = result.report["cv"]
    names = ["all", *positions]
    metrics = [cv["overall"], *(cv["by_position"][p] for p in positions)]
    x = np.arange(len(names))
    ax.bar(x - 0.2, [m["sensitivity"] for m in metrics], 0.4, label="sensitivity")
    ax.bar(x + 0.2, [m["specificity"] for m in metrics], 0.4, label="specificity")
    for xi, m in zip(x, metrics, strict=True):
        ax.text(xi, 1.01, f"{m['false_alarms_per_h']:.1f} FA/h", ha="center", fontsize=8)
    ax.set_xticks(x, names)
    ax.set_ylim(0.5, 1.06)
    ax.set_title("At the operating point (streamed, with refractory)")
    ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(f"HomeSafe fall detector {result.report['model_card']['version']}: cross-validated by subject")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# -- standalone entry point ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The `detect` and `train` groups alone, as `python -m homesafe.detect` runs them."""
    parser = argparse.ArgumentParser(prog="homesafe", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_detect_parser(sub)
    add_train_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `detect ...` or `train ...` from arguments; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
