"""`homesafe detect inactivity FILE` and `homesafe train inactivity`: replay a home, build the prior.

`add_parsers(sub)` registers both through `homesafe.detect.command_group`. This module also holds the
simulated homes the prior is built from and the method is evaluated on (`simulated_home`): residents with
varied routines from `simulators`, five sensor layouts, optional injected collapses, turned into the
`(ts, sensor, kind, value)` streams the detector reads. `models.inactivity` itself imports nothing of ours.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import gzip
import io
import json
import math
import random
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

PROGRESS_EVERY_S = 2.0
DEFAULT_REPORT_DIR = "build/inactivity-report"
REQUIRED_COLUMNS = ("ts", "sensor", "kind", "value")
LAYOUTS = ("full", "no_bed", "sparse_pir", "contacts", "mats")
SIM_UTC_OFFSET_S = 8 * 3600.0  # simulated homes live in UTC+8 (local time = ts + offset)
Event = tuple[float, str, str, int]


def _say(stream: IO[str], text: str) -> None:
    stream.write(text + "\n")
    stream.flush()


# -- simulated homes ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SimHome:
    """A simulated home's event stream and what happened in it."""

    seed: int
    layout: str
    start: float
    end: float
    events: list[Event]
    stays: list[Any]  # simulators.residents.Stay of the resident, in order
    incident: str | None = None  # what happened (None: an ordinary run), see INCIDENTS
    incident_at: float | None = None  # ... and when
    room: str | None = None  # where the resident was when it happened


def random_routine(rng: random.Random) -> Any:
    """A resident's habits drawn around the simulator's defaults (older adults living alone)."""
    from simulators.residents import Routine

    wake = rng.uniform(5.5, 8.5)
    bedtime = rng.uniform(20.5, 23.5)
    return Routine(wake=wake, bedtime=bedtime, jitter_min=rng.uniform(10, 45),
                   meals=(wake + rng.uniform(0.5, 1.5), rng.uniform(11.5, 12.75), rng.uniform(17.25, 18.75)),
                   night_bathroom_trips=rng.uniform(0.3, 2.5), outing_probability=rng.uniform(0.2, 0.9),
                   outing_min=(30.0, rng.uniform(90, 240)), nap_probability=rng.uniform(0.0, 0.8),
                   nap_min=(20.0, rng.uniform(45, 120)), visitor_probability=rng.uniform(0.0, 0.4))


def _devices(layout: str) -> tuple[Any, ...]:
    from simulators.devices import BASIC_DEVICES, DEFAULT_DEVICES, HOME_CARE_BED, SAFETY_PACKAGE

    if layout == "full":
        return DEFAULT_DEVICES
    if layout == "no_bed":
        return SAFETY_PACKAGE
    button_door = tuple(d for d in BASIC_DEVICES if d.type != "motion")
    if layout == "sparse_pir":
        pirs = tuple(d for d in BASIC_DEVICES if d.type == "motion" and d.room in ("kitchen", "bathroom"))
        return button_door + pirs + HOME_CARE_BED
    if layout == "contacts":
        return button_door
    if layout == "mats":
        pirs = tuple(d for d in BASIC_DEVICES if d.type == "motion" and d.room in ("kitchen", "bathroom"))
        return button_door + pirs + HOME_CARE_BED
    raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")


def _message_event(message: Any, roles: dict[str, tuple[str, str | None]]) -> Event | None:
    """The canonical event of a simulated Zigbee2MQTT message, or None when it says nothing about activity."""
    device = message.device
    if device is None or device not in roles or message.topic.endswith("/availability"):
        return None
    dtype, role = roles[device]
    payload = json.loads(message.payload)
    if dtype == "motion" and "occupancy" in payload:
        return (message.t, device, "motion", int(bool(payload["occupancy"])))
    if dtype == "contact" and "contact" in payload:
        return (message.t, device, "front_door" if role == "front_door" else "door", int(not payload["contact"]))
    if dtype == "bed_mat" and "occupancy" in payload:
        return (message.t, device, "bed", int(bool(payload["occupancy"])))
    if dtype == "radar" and "presence" in payload:
        return (message.t, device, "presence", int(bool(payload["presence"])))
    return None


def _derived_events(stays: Sequence[Any], layout: str, rng: random.Random) -> list[Event]:
    """Sensors the simulator does not model, from the resident's stays: cupboards, doors, flush, seat.

    `contacts` gets what van Kasteren's house A has (fridge, cupboards, room doors, flush, appliances);
    `mats` what Ordonez's home A has (seat mat, fridge, cupboard, flush, appliances). Still/collapsed/out
    stays make nothing.
    """
    if layout not in ("contacts", "mats"):
        return []
    out: list[Event] = []

    def pulse(t: float, sensor: str, kind: str, on_s: float) -> None:
        out.append((t, sensor, kind, 1))
        out.append((t + on_s, sensor, kind, 0))

    prev_room = None
    for stay in stays:
        start, end, room, activity = stay.start, stay.end, stay.room, stay.activity
        if not math.isfinite(end) or activity in ("collapsed", "still", "fallen") or room == "out":
            prev_room = room
            continue
        length = end - start
        if room != prev_room and layout == "contacts":
            for door_room, name in (("bedroom", "HallBedroomDoor"), ("bathroom", "HallBathroomDoor")):
                if door_room in (room, prev_room) and rng.random() < 0.7:
                    pulse(start + rng.uniform(1, 8), name, "door", rng.uniform(2, 8))
        if room == "kitchen" and length > 60:
            for sensor, per_min in (("Fridge", 6.0), ("Cupboard", 8.0)):
                for _ in range(max(1 if activity == "meal" else 0, int(rng.expovariate(per_min / (length / 60))))):
                    pulse(start + rng.uniform(0, length - 30), sensor, "door", rng.uniform(3, 20))
            if activity == "meal" and rng.random() < 0.5:
                pulse(start + rng.uniform(0, max(length - 300, 1)), "Microwave", "appliance", rng.uniform(60, 240))
        elif room == "bathroom" and rng.random() < 0.75:
            pulse(max(start, end - rng.uniform(10, 60)), "Toilet", "toilet", rng.uniform(20, 40))
        elif (room == "living_room" and layout == "mats" and activity in ("leisure", "visit") and length > 120
              and rng.random() < 0.85):
            pulse(start + rng.uniform(10, 60), "Seat", "seat", max(length - rng.uniform(70, 120), 5))
        prev_room = room
    out.sort(key=lambda e: (e[0], -e[3]))
    return out


INCIDENTS = ("collapse", "bed_exit", "stay_in_bed")


def simulated_home(seed: int, *, days: float, layout: str = "full", incident: str | None = None,
                   at: float | None = None, start_date: dt.date = dt.date(2025, 1, 6)) -> SimHome:
    """One resident's home for `days`, with an optional incident at epoch `at`.

    Incidents: "collapse" (stops moving where they are, for good), "bed_exit" (gets out of bed and wanders
    in the living room, never back to bed), "stay_in_bed" (stays in bed from `at` on, as if unwell). The
    same seed gives the same home and the same life up to the incident.
    """
    from simulators.home import SimulatedHome
    from simulators.residents import FOREVER, Stay
    from simulators.schedule import Scheduler

    rng = random.Random(seed)
    routine = random_routine(rng)
    tz = dt.timezone(dt.timedelta(seconds=SIM_UTC_OFFSET_S))
    devices = _devices(layout)
    home = SimulatedHome(f"sim{seed}", devices=devices, rng=random.Random(rng.getrandbits(64)),
                         routines=[routine], tz=tz)
    start = dt.datetime(start_date.year, start_date.month, start_date.day, tzinfo=tz).timestamp()
    end = start + days * 86400.0
    messages: list[Any] = []
    scheduler = Scheduler(start)
    home.attach(scheduler, messages.append)
    room = None
    if incident is not None:
        if incident not in INCIDENTS or at is None:
            raise ValueError(f"incident must be one of {INCIDENTS} with a time `at`, got {incident!r} at {at!r}")

        def happen(t: float) -> None:
            nonlocal room
            current = home.residents[0].current
            room = current.room if current is not None and current.room != "out" else "living_room"
            if incident == "collapse":
                stays = [Stay(t, FOREVER, room, "collapsed")]
            elif incident == "bed_exit":
                room = "bedroom"
                stays = [Stay(t, t + 30, "bedroom", "getting_up"), Stay(t + 30, FOREVER, "living_room", "wandering")]
            else:
                room = "bedroom"
                stays = [Stay(t, FOREVER, "bedroom", "in_bed")]
            home.relocate(t, stays, then="halt")

        scheduler.at(at, happen)
    scheduler.run_until(end)
    roles = {d.name: (d.type, d.role) for d in devices}
    events = [e for e in (_message_event(m, roles) for m in messages) if e is not None]
    stays = list(home.residents[0].history)
    events += _derived_events(stays, layout, random.Random(seed * 7919 + 1))
    events.sort(key=lambda e: e[0])
    return SimHome(seed, layout, start, end, events, stays, incident, at, room)


def daytime_collapse_time(home: SimHome, rng: random.Random, *, first_day: float, last_day: float,
                          hours: tuple[float, float] = (8.0, 20.0)) -> float | None:
    """A time in [first_day, last_day) days after the start, between local `hours`, when the resident is at
    home and up (not out, not in bed), drawn uniformly over such times; None if there is none."""
    from simulators.residents import IN_BED

    lo, hi = home.start + first_day * 86400.0, home.start + last_day * 86400.0
    pieces = []
    for stay in home.stays:
        if stay.room == "out" or stay.activity in IN_BED or stay.end <= lo or stay.start >= hi:
            continue
        a, b = max(stay.start, lo), min(stay.end, hi)
        t = a
        while t < b:  # split at local hour boundaries of the window
            local_h = ((t + SIM_UTC_OFFSET_S) % 86400.0) / 3600.0
            day0 = t - local_h * 3600.0
            w0, w1 = day0 + hours[0] * 3600.0, day0 + hours[1] * 3600.0
            seg_a, seg_b = max(t, w0), min(b, w1)
            if seg_b > seg_a + 60:
                pieces.append((seg_a, seg_b))
            t = day0 + 86400.0
    if not pieces:
        return None
    total = sum(b - a for a, b in pieces)
    x = rng.uniform(0, total)
    for a, b in pieces:
        if x <= b - a:
            return a + x
        x -= b - a
    return pieces[-1][1]


# -- reading event files -------------------------------------------------------------------------------------


class InputFileError(ValueError):
    """A file that cannot be read as a `ts,sensor,kind,value` CSV at all; the message says why."""


@dataclasses.dataclass(frozen=True)
class BadRow:
    """A row that was skipped, and why."""

    line: int
    reason: str


def _open_text(path: Path) -> IO[str]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputFileError(f"cannot read: {exc.strerror or exc}") from None
    head = raw.read(2)
    raw.seek(0)
    if head == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8-sig", newline="")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def read_events(path: str | Path, bad: list[BadRow] | None = None) -> Iterator[tuple[int, Event]]:
    """(line number, (ts, sensor, kind, value)) of each good row of an event CSV (plain or gzip).

    The header must name ts, sensor, kind and value (other columns are ignored). Rows that cannot be
    used are appended to `bad` with the reason and skipped; a row earlier than the one before it is bad
    (the replay never goes back in time). `heartbeat` rows need only ts. InputFileError when the file
    itself is unusable (missing, not text, no header).
    """
    from models.inactivity import KINDS

    bad = bad if bad is not None else []
    with _open_text(Path(path)) as text:
        reader = csv.reader(text)
        try:
            header = next(reader, None)
        except (UnicodeDecodeError, OSError, EOFError, csv.Error) as exc:
            raise InputFileError(f"cannot read the header: {exc}") from None
        if not header or not any(h.strip() for h in header):
            raise InputFileError("empty file; expected a header line ts,sensor,kind,value and one event per line")
        names = [h.strip().lower() for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise InputFileError(f"header is {','.join(header)[:80]!r}; expected the columns ts,sensor,kind,value "
                                 f"(missing {', '.join(missing)})")
        i_ts, i_sensor, i_kind, i_value = (names.index(c) for c in REQUIRED_COLUMNS)
        width = max(i_ts, i_sensor, i_kind, i_value) + 1
        last = -math.inf
        try:
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                parsed = _parse_row(row, (i_ts, i_sensor, i_kind, i_value), width, last, KINDS)
                if isinstance(parsed, str):
                    bad.append(BadRow(reader.line_num, parsed))
                    continue
                last = parsed[0]
                yield reader.line_num, parsed
        except (UnicodeDecodeError, OSError, EOFError, csv.Error) as exc:
            raise InputFileError(f"unreadable after line {reader.line_num}: {exc}") from None


def _parse_row(row: list[str], columns: tuple[int, int, int, int], width: int, last: float,
               kinds: Sequence[str]) -> Event | str:
    """The event of one CSV row, or why it cannot be used."""
    i_ts, i_sensor, i_kind, i_value = columns
    if len(row) < width:
        return f"expected at least {width} columns, got {len(row)}"
    try:
        ts = float(row[i_ts])
    except ValueError:
        return f"ts {row[i_ts][:40]!r} is not a number (epoch seconds)"
    if not math.isfinite(ts):
        return f"ts {row[i_ts][:40]!r} is not finite"
    kind = row[i_kind].strip()
    if kind not in kinds:
        return f"kind {kind[:40]!r} is not one of {', '.join(kinds)}"
    if ts < last:
        return f"ts {ts} is earlier than the row before ({last}); sort the file by ts"
    sensor = row[i_sensor].strip()
    if kind == "heartbeat":
        return (ts, sensor, kind, 0)
    if not sensor:
        return f"a {kind} row needs a sensor id"
    value = _parse_value(row[i_value])
    if value is None:
        return f"value {row[i_value][:40]!r} is not 0 or 1 (off/on, closed/open, empty/occupied)"
    return (ts, sensor, kind, value)


def _parse_value(text: str) -> int | None:
    text = text.strip().lower()
    if text in ("1", "true", "on"):
        return 1
    if text in ("0", "false", "off"):
        return 0
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number in (0.0, 1.0) else None


# -- detect inactivity -----------------------------------------------------------------------------------------


def detect_file(path: str | Path, *, out: IO[str], err: IO[str], prior: dict[str, Any] | None = None,
                utc_offset_s: float = 0.0, false_alarm_rate: float | None = None, evidence: bool = False,
                progress: str = "auto", name: str = "homesafe detect inactivity") -> int:
    """Replay one home's event file from no history, one JSON line per alarm on `out`; the exit code.

    0 when every row was used, 1 when some rows were bad (each named on `err`; the rest was processed),
    2 when the file could not be read at all.
    """
    from models.inactivity import InactivityMonitor

    params: dict[str, Any] = {"prior": prior, "utc_offset_s": utc_offset_s}
    if false_alarm_rate is not None:
        params["false_alarm_rate"] = false_alarm_rate
    try:
        monitor = InactivityMonitor(**params)
    except (OSError, ValueError, KeyError) as exc:
        _say(err, f"{name}: cannot load the prior: {exc}")
        return 2
    bad: list[BadRow] = []
    started = last_report = time.monotonic()
    rows = alarms = 0
    last_ts: float | None = None

    def emit(found: list[Any]) -> None:
        nonlocal alarms
        for alarm in found:
            line = alarm.as_line()
            if evidence:
                line["evidence"] = alarm.evidence
            out.write(json.dumps(line) + "\n")
        alarms += len(found)

    try:
        for _, (ts, sensor, kind, value) in read_events(path, bad):
            rows += 1
            emit(monitor.on_tick(ts) if kind == "heartbeat" else monitor.on_event(ts, sensor, kind, value))
            last_ts = ts
            if rows % 4096 == 0 and progress != "never":
                now = time.monotonic()
                if now - last_report >= PROGRESS_EVERY_S and (progress == "always" or now - started >= 2.0):
                    last_report = now
                    _say(err, f"detect inactivity: {rows} rows, {alarms} alarms, {len(bad)} bad rows, "
                              f"{rows / (now - started):.0f} rows/s")
    except InputFileError as exc:
        out.flush()
        _say(err, f"{name}: {path}: {exc}")
        return 2
    if last_ts is not None:
        emit(monitor.on_tick(last_ts))
    out.flush()
    for row in bad:
        _say(err, f"{name}: {path}, line {row.line}: {row.reason}; row skipped")
    elapsed = time.monotonic() - started
    if progress == "always" or (progress == "auto" and elapsed >= 2.0):
        _say(err, f"detect inactivity: done, {rows} rows in {elapsed:.1f} s, {alarms} alarms, {len(bad)} bad rows")
    return 1 if bad else 0


def _cmd_detect(args: argparse.Namespace, *, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    from models.inactivity import load_prior

    out, err = out or sys.stdout, err or sys.stderr
    prior = None
    if args.model:
        try:
            prior = load_prior(args.model)
        except (OSError, ValueError, KeyError) as exc:
            _say(err, f"homesafe detect inactivity: cannot load the model {args.model}: {exc}")
            return 2
    if not -14 <= args.utc_offset <= 14:
        _say(err, f"homesafe detect inactivity: --utc-offset must be within ±14 hours, got {args.utc_offset}")
        return 2
    return detect_file(args.file, out=out, err=err, prior=prior, utc_offset_s=args.utc_offset * 3600.0,
                       false_alarm_rate=args.false_alarm_rate, evidence=args.evidence, progress=args.progress)


# -- parser wiring -----------------------------------------------------------------------------------------------


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register `detect inactivity` and `train inactivity` in the top-level subparsers."""
    from homesafe.detect import command_group

    detect = command_group(subparsers, "detect", "run a detector over recorded files").add_parser(
        "inactivity", help="replay one home's ambient events (ts,sensor,kind,value CSV); one JSON line per alarm",
        description='Replays FILE (CSV or CSV.gz, header ts,sensor,kind,value; other columns ignored) as one home '
                    'from no history and prints one JSON line per alarm: {"ts": TS, "type": TYPE, "since": '
                    "LAST_ACTIVITY_TS}, TYPE among INACTIVITY, BED_EXIT_NO_RETURN, NOT_UP. TS is the alarm's "
                    "deadline, reached by the replay clock (event and heartbeat rows). Bad rows are named on "
                    "stderr and skipped; the exit code is then 1.")
    detect.add_argument("file", metavar="FILE", help="events: ts (epoch s), sensor, kind, value (0/1)")
    detect.add_argument("--model", default=None, help="prior artifact (default: the shipped inactivity.json)")
    detect.add_argument("--utc-offset", type=float, default=0.0, metavar="HOURS",
                        help="the home's offset from UTC in hours (local time = ts + offset; default 0, for ts "
                             "that are local wall-clock times read as UTC)")
    detect.add_argument("--false-alarm-rate", type=float, default=None, metavar="PER_MONTH",
                        help="false-alarm budget per home per 30 days (default: the detector's, 0.5)")
    detect.add_argument("--evidence", action="store_true", help="add each alarm's evidence to its JSON line")
    detect.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                        help="progress lines on stderr (auto: when the replay takes more than 2 s)")
    detect.set_defaults(func=_cmd_detect)

    train = command_group(subparsers, "train", "train a detector and write its artifact and report").add_parser(
        "inactivity", help="build the inactivity prior from simulated homes; evaluate; write artifact and report",
        description="Simulates homes of varied residents and sensor layouts, builds the population prior from "
                    "their silences and the documented physiology (never from the real homes), evaluates it on "
                    "other simulated homes (ordinary weeks, daytime collapses, night incidents) and, when present, "
                    "on the real development homes (cold start), against fixed rules; writes the artifact with "
                    "its model card, a report (JSON, Markdown) and a PNG.")
    train.add_argument("--seed", type=int, default=0, help="seed of the simulated homes (default 0)")
    train.add_argument("--out", default=None,
                       help="artifact path (default: the shipped models/artifacts/inactivity.json)")
    train.add_argument("--report", default=DEFAULT_REPORT_DIR, help=f"report folder (default {DEFAULT_REPORT_DIR})")
    train.add_argument("--data", default=None,
                       help="the real homes' folder, for evaluation only (default $HOMESAFE_ADL_DATA or "
                            "../shared/data/adl; skipped when absent)")
    train.add_argument("--homes", type=int, default=12, help="simulated training homes per layout (default 12)")
    train.add_argument("--eval-homes", type=int, default=10, help="simulated evaluation homes per layout (default 10)")
    train.add_argument("--trained-on", default=None, metavar="YYYY-MM-DD",
                       help="date for the model card (default today, UTC); fix it to reproduce an artifact")
    train.set_defaults(func=_cmd_train)


# -- train inactivity: the prior from simulated homes, and its evaluation -----------------------------------------

TRAIN_DAYS = 28.0
EVAL_DAYS = 35.0
WARMUP_DAYS = 7.0  # simulated false alarms are also reported after the first week (the prior's cold start)
RULE_HOURS = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
BUDGETS = (0.1, 0.5, 2.0, 8.0)  # false_alarm_rate values for the trade-off curve (0.5 is the default)
CURVE_LAYOUTS = ("full", "no_bed", "contacts")
MISS_AFTER_S = 24 * 3600.0
REAL_HOMES = ("ordonez_a", "kasteren_a")


def default_adl_data() -> Path:
    """$HOMESAFE_ADL_DATA, else shared/data/adl beside the repository (../shared/data/adl)."""
    import os

    env = os.environ.get("HOMESAFE_ADL_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "adl"


def shipped_artifact_path() -> Path:
    """Where the shipped prior lives in the source tree."""
    import models

    return Path(models.__file__).resolve().parent / "artifacts" / "inactivity.json"


def _train_seed(seed: int, k: int, layout: str) -> int:
    return seed * 1_000_003 + 10_000 + k * len(LAYOUTS) + LAYOUTS.index(layout)


def _eval_seed(seed: int, k: int, layout: str) -> int:
    return seed * 1_000_003 + 500_000 + k * len(LAYOUTS) + LAYOUTS.index(layout)


def _home_silences(args: tuple[int, str, dict[str, Any]]) -> list[Any]:
    """The silences a (training) simulated home records under a flat profile."""
    from models.inactivity import InactivityProfile

    seed, layout, base = args
    home = simulated_home(seed, days=TRAIN_DAYS, layout=layout)
    silences: list[Any] = []
    profile = InactivityProfile(prior=base, utc_offset_s=SIM_UTC_OFFSET_S).partial_fit(())
    profile._recorder = lambda a, b, c, away: silences.append((a, b, c, away))
    profile.partial_fit(home.events)
    return silences


def _map(fn: Any, jobs: list[Any], workers: int) -> list[Any]:
    if workers <= 1 or len(jobs) < 2:
        return [fn(job) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, jobs, chunksize=1))


def build_shipped_prior(*, seed: int, homes: int, workers: int = 2, say: Any = None) -> tuple[dict[str, Any], Any]:
    """The prior from `homes` simulated homes per layout and the physiological defaults: (prior, table)."""
    from models.inactivity import default_prior
    from models.inactivity.training import SilenceTable, build_prior

    base = default_prior()
    table = SilenceTable(base["base_silence_s"])
    jobs = [(_train_seed(seed, k, layout), layout, base) for k in range(homes) for layout in LAYOUTS]
    for silences in _map(_home_silences, jobs, workers):
        table.add_home(silences, utc_offset_s=SIM_UTC_OFFSET_S)
    if say:
        say(f"simulated {len(jobs)} training homes x {TRAIN_DAYS:g} days: {table.silences} silences")
    sources = (f"silence table from {len(jobs)} simulated homes ({homes} per layout: {', '.join(LAYOUTS)}), "
               f"{TRAIN_DAYS:g} days each, seed {seed}, made cautious (models.inactivity.training); routine, "
               "rules and the rows of seat+ and bed+ from physiology (models.inactivity.prior.default_prior); "
               "no real home's data")
    prior = build_prior(table, base=base, version=f"inactivity-prior-{seed}", sources=sources)
    return prior, table


def _evaluate_home(args: tuple[int, str, dict[str, Any], bool]) -> dict[str, Any]:
    """One simulated evaluation home: ordinary weeks, a daytime collapse, the trade-off curve."""
    from models.inactivity import InactivityProfile
    from models.inactivity.evaluation import activity_times, first_after, fixed_rule, replay

    seed, layout, prior, curve = args
    home = simulated_home(seed, days=EVAL_DAYS, layout=layout)
    warm = home.start + WARMUP_DAYS * 86400.0
    default = InactivityProfile().false_alarm_rate
    budgets = (None, *(b for b in BUDGETS if b != default)) if curve else (None,)
    out: dict[str, Any] = {"seed": seed, "layout": layout, "days": EVAL_DAYS, "fa": {}, "fa_warm": {},
                           "delay": {}, "rules_fa": {}, "rules_fa_warm": {}, "rules_delay": {}, "types": {}}
    for budget in budgets:
        params = {"prior": prior, "utc_offset_s": SIM_UTC_OFFSET_S}
        if budget is not None:
            params["false_alarm_rate"] = budget
        key = "default" if budget is None else str(budget)
        alarms = replay(home.events, end=home.end, **params)
        out["fa"][key] = len(alarms)
        out["fa_warm"][key] = sum(1 for a in alarms if a.ts >= warm)
        if budget is None:
            out["fa"][str(default)], out["fa_warm"][str(default)] = out["fa"][key], out["fa_warm"][key]
            for a in alarms:
                out["types"][a.type] = out["types"].get(a.type, 0) + 1
    activity = activity_times(home.events, prior=prior)
    for hours in RULE_HOURS:
        hits = fixed_rule(activity, hours, end=home.end)
        out["rules_fa"][str(hours)] = len(hits)
        out["rules_fa_warm"][str(hours)] = sum(1 for ts, _ in hits if ts >= warm)
    at = daytime_collapse_time(home, random.Random(seed), first_day=14, last_day=28)
    if at is None:
        return out
    crash = simulated_home(seed, days=(at - home.start) / 86400.0 + 1.0, layout=layout, incident="collapse", at=at)
    out["collapse_hour"] = round(((at + SIM_UTC_OFFSET_S) % 86400.0) / 3600.0, 2)
    out["collapse_room"] = crash.room
    for budget in budgets:
        params = {"prior": prior, "utc_offset_s": SIM_UTC_OFFSET_S}
        if budget is not None:
            params["false_alarm_rate"] = budget
        key = "default" if budget is None else str(budget)
        alarms = replay(crash.events, end=crash.end, **params)
        out["delay"][key] = first_after([a.ts for a in alarms], at, within=MISS_AFTER_S)
        if budget is None:
            out["delay"][str(default)] = out["delay"][key]
    activity = activity_times(crash.events, prior=prior)
    for hours in RULE_HOURS:
        hits = [ts for ts, _ in fixed_rule(activity, hours, end=crash.end)]
        out["rules_delay"][str(hours)] = first_after(hits, at, within=MISS_AFTER_S)
    return out


def _night_home(args: tuple[int, str, dict[str, Any]]) -> dict[str, Any]:
    """A night-time bed exit without return (02:00-04:00) and a morning staying in bed, in one home."""
    from models.inactivity.evaluation import replay

    seed, layout, prior = args
    rng = random.Random(seed)
    home = simulated_home(seed, days=16.0, layout=layout)
    day = home.start + 15 * 86400.0
    out: dict[str, Any] = {"seed": seed, "layout": layout}
    for incident, hour in (("bed_exit", rng.uniform(1.0, 3.5)), ("stay_in_bed", 4.5)):
        at = day + hour * 3600.0
        sim = simulated_home(seed, days=15.0 + hour / 24.0 + 0.6, layout=layout, incident=incident, at=at)
        alarms = [a for a in replay(sim.events, end=sim.end, prior=prior, utc_offset_s=SIM_UTC_OFFSET_S)
                  if a.ts >= at]
        first = alarms[0] if alarms else None
        out[incident] = None if first is None else {
            "type": first.type, "delay_h": round((first.ts - at) / 3600, 3),
            "local_hour": round(((first.ts + SIM_UTC_OFFSET_S) % 86400) / 3600, 2)}
    return out


def evaluate_real(prior: dict[str, Any], data: Path) -> dict[str, Any]:
    """Cold-start replays of the real development homes (every alarm there is false), with fixed rules."""
    from models.inactivity import InactivityMonitor
    from models.inactivity.evaluation import activity_times, fixed_rule, per_month

    out: dict[str, Any] = {}
    for name in REAL_HOMES:
        path = data / f"{name}.csv.gz"
        if not path.is_file():
            continue
        events = [e for _, e in read_events(path)]
        days = (events[-1][0] - events[0][0]) / 86400.0
        monitor = InactivityMonitor(prior=prior)
        alarms = []
        for e in events:
            alarms += monitor.on_event(*e)
        alarms += monitor.on_tick(events[-1][0])
        activity = activity_times(events, prior=prior)
        rules = {}
        for hours in RULE_HOURS:
            n = len(fixed_rule(activity, hours, end=events[-1][0]))
            rules[str(hours)] = {"alarms": n, "per_month": round(per_month(n, days), 2)}
        profile = monitor.profile
        thresholds = {}
        for key, kind_key in _contexts(profile, {e[1]: e[2] for e in events}):
            thresholds[key] = [round(profile.home_threshold(key, kind_key, h) / 3600.0, 3) for h in range(24)]
        out[name] = {"days": round(days, 2), "events": len(events), "alarms": len(alarms),
                     "per_month": round(per_month(len(alarms), days), 2),
                     "list": [dict(a.as_line(), evidence=a.evidence) for a in alarms], "rules": rules,
                     "thresholds_h": thresholds, "state_bytes": len(json.dumps(monitor.snapshot(),
                                                                                separators=(",", ":")))}
    return out


def _contexts(profile: Any, kind_of: dict[str, str], limit: int = 10) -> list[tuple[str, str]]:
    """The (sensor key, kind key) contexts a profile has learned, busiest first (at most `limit`)."""
    found = []
    for key, cells in profile.stats_["sensors"].items():
        base, plus = (key[:-1], "+") if key.endswith("+") else (key, "")
        if base in kind_of:
            found.append((sum(cells[0::3]), key, kind_of[base] + plus))
    found.sort(key=lambda f: -f[0])
    return [(key, kind) for _, key, kind in found[:limit]]


def evaluate_simulated(prior: dict[str, Any], *, seed: int, homes: int, workers: int = 2,
                       say: Any = None) -> dict[str, Any]:
    """Ordinary weeks, daytime collapses and night incidents in `homes` simulated homes per layout."""
    from models.inactivity.evaluation import delay_stats, per_month

    jobs = [(_eval_seed(seed, k, layout), layout, prior, layout in CURVE_LAYOUTS)
            for k in range(homes) for layout in LAYOUTS]
    rows = _map(_evaluate_home, jobs, workers)
    if say:
        say(f"evaluated {len(rows)} simulated homes x {EVAL_DAYS:g} days (+ a daytime collapse each)")
    night_layouts = ("full", "sparse_pir", "no_bed")
    nights = _map(_night_home, [(_eval_seed(seed, k, layout) + 7, layout, prior)
                                for k in range(homes) for layout in night_layouts], workers)
    if say:
        say(f"evaluated {len(nights)} night incidents x 2")

    def summary(selected: list[dict[str, Any]], key: str = "default") -> dict[str, Any]:
        days = sum(r["days"] for r in selected)
        warm_days = sum(r["days"] - WARMUP_DAYS for r in selected)
        fa = sum(r["fa"].get(key, 0) for r in selected)
        fa_warm = sum(r["fa_warm"].get(key, 0) for r in selected)
        delays = [r["delay"].get(key) for r in selected if "collapse_hour" in r]
        types: dict[str, int] = {}
        for r in selected:
            for t, n in r["types"].items():
                types[t] = types.get(t, 0) + n
        return {"homes": len(selected), "home_days": days, "false_alarms": fa,
                "per_month": round(per_month(fa, days), 3), "per_month_after_week_1": round(per_month(fa_warm,
                                                                                                 warm_days), 3),
                "false_alarms_by_type": types, "collapses": delay_stats(delays).as_dict()}

    def rules(selected: list[dict[str, Any]]) -> dict[str, Any]:
        days = sum(r["days"] for r in selected)
        warm_days = sum(r["days"] - WARMUP_DAYS for r in selected)
        out = {}
        for hours in RULE_HOURS:
            h = str(hours)
            out[h] = {"per_month": round(per_month(sum(r["rules_fa"][h] for r in selected), days), 3),
                      "per_month_after_week_1": round(per_month(sum(r["rules_fa_warm"][h] for r in selected),
                                                                warm_days), 3),
                      "collapses": delay_stats([r["rules_delay"].get(h) for r in selected
                                                if "collapse_hour" in r]).as_dict()}
        return out

    by_layout = {layout: summary([r for r in rows if r["layout"] == layout]) for layout in LAYOUTS}
    pir = [r for r in rows if r["layout"] in ("full", "no_bed")]
    curve_rows = [r for r in rows if r["layout"] in CURVE_LAYOUTS]
    curve = {"layouts": list(CURVE_LAYOUTS),
             "method": {str(b): summary(curve_rows, str(b)) for b in BUDGETS},
             "rules": rules(curve_rows)}
    night: dict[str, Any] = {}
    for layout in night_layouts:
        got = [n for n in nights if n["layout"] == layout]
        entry = {}
        for incident, want in (("bed_exit", "BED_EXIT_NO_RETURN"), ("stay_in_bed", "NOT_UP")):
            hits = [n[incident] for n in got]
            typed = [h for h in hits if h is not None and h["type"] == want]
            entry[incident] = {"n": len(hits), "first_alarm_types": _count([h["type"] for h in hits if h]),
                               "detected_as_" + want: len(typed),
                               "median_delay_h": round(float(np.median([h["delay_h"] for h in typed])), 3)
                               if typed else None,
                               "median_local_hour": round(float(np.median([h["local_hour"] for h in typed])), 2)
                               if typed else None,
                               "missed": sum(1 for h in hits if h is None)}
        night[layout] = entry
    return {"homes_per_layout": homes, "days": EVAL_DAYS, "warmup_days": WARMUP_DAYS,
            "utc_offset_h": SIM_UTC_OFFSET_S / 3600, "collapse_window": "local 08:00-20:00, days 14-28, at home "
            "and up", "overall": summary(rows), "room_pirs": summary(pir), "by_layout": by_layout,
            "rules_overall": rules(rows), "rules_room_pirs": rules(pir), "curve": curve, "night": night,
            "homes": rows, "night_homes": nights}


def _count(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


@dataclasses.dataclass
class TrainingResult:
    """What `train` made: the prior, its model card, and the full report."""

    prior: dict[str, Any]
    card: dict[str, Any]
    report: dict[str, Any]


def train(*, seed: int = 0, homes: int = 12, eval_homes: int = 10, data: Path | None = None,
          trained_on: str | None = None, workers: int = 2, say: Any = None) -> TrainingResult:
    """Build the prior from simulated homes, evaluate it (simulated homes, real homes if present)."""
    import sklearn

    from models.inactivity import default_prior
    from models.inactivity.training import CAUTION_LN, CAUTION_SD, MIN_LONG, MIN_LONG_NIGHT, MIN_SD

    prior, table = build_shipped_prior(seed=seed, homes=homes, workers=workers, say=say)
    simulated = evaluate_simulated(prior, seed=seed, homes=eval_homes, workers=workers, say=say)
    real: dict[str, Any] = {}
    data = data if data is not None else default_adl_data()
    if (data / "ordonez_a.csv.gz").is_file() or (data / "kasteren_a.csv.gz").is_file():
        real = evaluate_real(prior, data)
        if say:
            say("real homes (cold start): " + ", ".join(f"{k} {v['alarms']} alarms in {v['days']:g} days"
                                                        for k, v in real.items()))
    elif say:
        say(f"no real homes at {data}: evaluated on simulated homes only")
    defaults = default_prior()
    card = {
        "model": "homesafe inactivity: per-home online silence profile (hierarchical normal-inverse-gamma beliefs "
                 "by context kind and two-hour bin, per-sensor random shifts, Beta shrinkage of P(silence > u); "
                 "thresholds at a per-silence false-alarm probability), absences through the front door, routine "
                 "(getting up, night rest, night trips)",
        "version": prior["version"],
        "format_version": prior["format_version"],
        "seed": seed,
        "trained_on": trained_on or dt.datetime.now(dt.UTC).date().isoformat(),
        "numpy_version": np.__version__,
        "sklearn_version": sklearn.__version__,
        "data": {
            "prior_from": prior["sources"],
            "simulated_homes": {"training": homes * len(LAYOUTS), "evaluation": eval_homes * len(LAYOUTS),
                                "layouts": {"full": "PIR in every room, front door, bathroom radar, bed mat",
                                            "no_bed": "as full without the bed mat",
                                            "sparse_pir": "PIR in kitchen and bathroom, front door, bed mat",
                                            "contacts": "no PIR: fridge, cupboard, room doors, flush, microwave, "
                                                        "front door (like van Kasteren's house A)",
                                            "mats": "seat and bed mats, kitchen/bathroom PIR, fridge, cupboard, "
                                                    "flush, microwave, front door (like Ordonez's home A)"},
                                "residents": "one, older adult routine drawn per home: wake 05:30-08:30, bed "
                                             "20:30-23:30, naps, outings, visitors, 0.3-2.5 night trips "
                                             "(simulators.residents)",
                                "timezone": "UTC+8 (ts are epoch UTC, utc_offset_s = 28800)"},
            "real_homes": "ordonez_a, kasteren_a (shared/data/adl): evaluation only, cold start. Not used to fit "
                          "anything: ordonez_a's licence forbids shipping anything fitted to it and kasteren_a has "
                          "none. Hyper-parameters were checked on them lightly (see hyper_parameters).",
        },
        "features": ["context of a silence: the sensor where activity was last seen, '+' when somebody settled "
                     "(bed/seat/radar on), the bed while it is occupied, '~' during the night's rest",
                     "local start hour (two-hour bins for kinds, four-hour bins for sensors)",
                     "front-door passages (absence vs at home)", "getting-up time, night rest length, minutes "
                     "out of bed at night"],
        "hyper_parameters": {
            "false_alarm_rate": 0.5, "base_silence_s": prior["base_silence_s"], "weights": prior["weights"],
            "shares": prior["shares"], "rules": prior["rules"],
            "caution": {"mean_ln": round(CAUTION_LN, 4), "sd_factor": CAUTION_SD, "min_sd": MIN_SD,
                        "min_long_day": MIN_LONG, "min_long_night": MIN_LONG_NIGHT},
            "tuned_on_real_homes": "lightly: the default budget (0.5/month) and kind_dof (8) were chosen on "
                                   "simulated homes and then checked on the real homes (no alarm there up to a "
                                   "budget of 2/month); no statistic of the prior comes from them",
        },
        "physiology": defaults["sources"],
        "evaluation": {
            "real_homes": {k: {"days": v["days"], "alarms": v["alarms"], "false_alarms_per_month": v["per_month"],
                               "fixed_rules_per_month": {h: r["per_month"] for h, r in v["rules"].items()},
                               "state_bytes": v["state_bytes"]} for k, v in real.items()},
            "simulated": {key: simulated[key] for key in ("overall", "room_pirs", "by_layout", "rules_overall",
                                                           "rules_room_pirs", "night")},
        },
        "caveats": [
            "Simulated homes are not real homes: simulated PIRs, routines and derived contacts/mats are "
            "simplifications; the prior is made cautious and every home learns its own profile from day one.",
            "The two real homes are young adults' (not the target population) and short (14 and 28 days).",
            "A collapse while seated on a seat mat or lying in bed looks like sitting or sleeping: detection "
            "there falls to the seat's learned session length or to NOT_UP.",
            "Absences: after a front-door passage with nothing inside, the home is taken as empty; an alarm then "
            "needs an absence implausible for the home and at least away_floor_s (3 days). A resident who opened "
            "the door and collapsed before any inside sensor saw them is not detected (rare in homes with a "
            "hallway PIR).",
            "Homes without a bed sensor infer the night from silence; NOT_UP is then later and weaker.",
            "Learned silences include those that raised an alarm (no feedback of outcomes yet).",
        ],
    }
    report = {"model_card": card, "simulated": simulated, "real": real, "silence_table": table.summary()}
    return TrainingResult(prior, card, report)


def save_artifact(result: TrainingResult, path: Path) -> Path:
    """The prior and its model card as the JSON artifact `models.inactivity.load_prior` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    artifact = {"kind": "homesafe.models.inactivity.artifact", "format_version": 1, "prior": result.prior,
                "card": result.card}
    path.write_text(json.dumps(artifact, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return path


def summary_table(report: dict[str, Any]) -> str:
    """The headline figures as a Markdown table: this method and fixed rules, real and simulated homes."""
    sim, real = report["simulated"], report["real"]

    def delays(d: dict[str, Any]) -> str:
        if d["median_h"] is None:
            return "-"
        return f"{d['median_h']:.2f} / {d['p90_h']:.2f} / {100 * d['under_2h']:.0f}% / {d['misses']}"

    homes = list(real)
    head = "| method | " + " | ".join(f"{h} FA/month" for h in homes) + (" | " if homes else "")
    head += "sim FA/month (all / after week 1) | sim collapses, all layouts: median / p90 h / <2 h / misses | " \
            "room-PIR homes: median / p90 h / <2 h / misses |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    ov, pir = sim["overall"], sim["room_pirs"]
    cells = [f"{real[h]['per_month']:.2f}" for h in homes]
    lines.append("| this detector (budget 0.5) | " + " | ".join(cells) + (" | " if cells else "")
                 + f"{ov['per_month']:.2f} / {ov['per_month_after_week_1']:.2f} | {delays(ov['collapses'])} | "
                   f"{delays(pir['collapses'])} |")
    for hours in RULE_HOURS:
        h = str(hours)
        cells = [f"{real[name]['rules'][h]['per_month']:.2f}" for name in homes]
        r_all, r_pir = sim["rules_overall"][h], sim["rules_room_pirs"][h]
        lines.append(f"| no activity for {hours:g} h | " + " | ".join(cells) + (" | " if cells else "")
                     + f"{r_all['per_month']:.2f} / {r_all['per_month_after_week_1']:.2f} | "
                       f"{delays(r_all['collapses'])} | {delays(r_pir['collapses'])} |")
    return "\n".join(lines)


def write_report(result: TrainingResult, folder: Path) -> list[Path]:
    """report.json, report.md and (with matplotlib) inactivity.png in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "report.json", folder / "report.md"]
    paths[0].write_text(json.dumps(result.report, indent=1, default=float) + "\n", encoding="utf-8")
    sim = result.report["simulated"]
    md = [f"# Inactivity detector {result.card['version']}", "", summary_table(result.report), "",
          "FA = false alarms per home per 30 days (every alarm on the real homes and on ordinary simulated "
          "weeks is false). Simulated collapses: one per home at a random daytime moment (08:00-20:00 local, "
          "days 14-28) while at home and up; a miss is no alarm within 24 h.", "", "## By layout", "",
          "| layout | FA/month (after week 1) | collapses: median / p90 h / <2 h / misses |", "| --- | --- | --- |"]
    for layout, s in sim["by_layout"].items():
        c = s["collapses"]
        md.append(f"| {layout} | {s['per_month']:.2f} ({s['per_month_after_week_1']:.2f}) | {c['median_h']} / "
                  f"{c['p90_h']} / {c['under_2h']} / {c['misses']} |")
    md += ["", "## Night incidents (simulated, day 15)", "", "```", json.dumps(sim["night"], indent=1), "```", "",
           "## Real homes (cold start)", ""]
    for name, r in result.report["real"].items():
        md.append(f"- {name}: {r['alarms']} alarms in {r['days']} days ({r['per_month']}/month); state "
                  f"{r['state_bytes']} bytes")
        for a in r["list"]:
            md.append(f"  - {a}")
    md += ["", "## Caveats", ""] + [f"- {c}" for c in result.card["caveats"]]
    paths[1].write_text("\n".join(md) + "\n", encoding="utf-8")
    try:
        paths.append(plot(result.report, folder / "inactivity.png"))
    except ImportError:
        _say(sys.stderr, "homesafe train inactivity: matplotlib is not installed, no plot written "
                         "(pip install -e '.[plot]')")
    return paths


def plot(report: dict[str, Any], path: Path) -> Path:
    """Learned thresholds of the real homes by hour and context; delay vs false alarms, method vs rules."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    for ax, name in zip(axes[0], REAL_HOMES, strict=True):
        _plot_thresholds(ax, name, report["real"].get(name))
    _plot_tradeoff(axes[1][0], report)
    _plot_delays(axes[1][1], report["simulated"])
    fig.suptitle(f"HomeSafe inactivity detector {report['model_card']['version']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_thresholds(ax: Any, name: str, real: dict[str, Any] | None) -> None:
    if real is None:
        ax.text(0.5, 0.5, f"{name}: data absent", ha="center", transform=ax.transAxes)
        return
    for key, values in real["thresholds_h"].items():
        ax.step(np.arange(24), values, where="post", label=key, lw=1.4)
    ax.set_yscale("log")
    ax.set_xlim(0, 23)
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel("local hour the silence began")
    ax.set_ylabel("INACTIVITY threshold (h, log)")
    ax.set_title(f"{name}: learned thresholds after {real['days']:g} days (cold start), by last sensor\n"
                 f"({real['alarms']} alarms; '+' = someone settled on a mat)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)


def _plot_tradeoff(ax: Any, report: dict[str, Any]) -> None:
    real, curve = report["real"], report["simulated"]["curve"]
    xs = [curve["method"][str(b)]["per_month_after_week_1"] for b in BUDGETS]
    ys = [curve["method"][str(b)]["collapses"]["median_h"] or np.nan for b in BUDGETS]
    p90 = [curve["method"][str(b)]["collapses"]["p90_h"] or np.nan for b in BUDGETS]
    ax.plot(xs, ys, "o-", color="C0", lw=2, label="this detector, median delay")
    ax.plot(xs, p90, "o--", color="C0", lw=1, label="this detector, p90 delay")
    for b, x, y in zip(BUDGETS, xs, ys, strict=True):
        ax.annotate(f"budget {b:g}", (x, y), textcoords="offset points", xytext=(5, -12), fontsize=7)
    rx = [curve["rules"][str(h)]["per_month_after_week_1"] for h in RULE_HOURS]
    ry = [curve["rules"][str(h)]["collapses"]["median_h"] or np.nan for h in RULE_HOURS]
    ax.plot(rx, ry, "s-", color="C3", lw=2, label="fixed rule 'no activity for H h'")
    for h, x, y in zip(RULE_HOURS, rx, ry, strict=True):
        ax.annotate(f"{h:g} h", (x, y), textcoords="offset points", xytext=(5, 4), fontsize=7)
    if real:
        total_days = sum(r["days"] for r in real.values())
        fa_real = sum(r["alarms"] for r in real.values()) / total_days * 30
        ax.axvline(fa_real, color="C0", ls=":", lw=1, label=f"this detector on the real homes: {fa_real:.2f}/month")
        rules_real = [sum(r["rules"][str(h)]["alarms"] for r in real.values()) / total_days * 30 for h in RULE_HOURS]
        ax.plot(rules_real, ry, "s:", color="C3", lw=1, alpha=0.7, label="fixed rules, FA on the real homes")
    ax.axhline(2.0, color="k", lw=0.8, ls="--")
    ax.axvline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlim(left=0)
    ax.set_xlabel("false alarms per home-month (simulated ordinary weeks after week 1; dotted: real homes)")
    ax.set_ylabel("daytime collapse detection delay (h)")
    ax.set_title(f"Delay vs false alarms, simulated homes ({', '.join(curve['layouts'])})\n"
                 "aim: <= 1 false alarm/month (vertical) and < 2 h (horizontal)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)


def _plot_delays(ax: Any, sim: dict[str, Any]) -> None:
    data, labels = [], []
    for layout in LAYOUTS:
        got = [r["delay"].get("default") for r in sim["homes"] if r["layout"] == layout and "collapse_hour" in r]
        data.append([d / 3600 for d in got if d is not None])
        labels.append(f"{layout}\n({sum(1 for d in got if d is None)} missed)")
    ax.boxplot(data, showfliers=True)
    ax.set_xticks(range(1, len(labels) + 1), labels, fontsize=8)
    for hours, color in ((2.0, "C2"), (4.0, "C1"), (12.0, "C3")):
        ax.axhline(hours, color=color, ls="--", lw=1, label=f"fixed {hours:g} h rule")
    ax.set_yscale("log")
    ax.set_ylabel("detection delay (h, log)")
    ax.set_title("Daytime collapse detection delay by sensor layout (this detector, budget 0.5)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)


def _cmd_train(args: argparse.Namespace) -> int:
    started = time.monotonic()

    def say(line: str) -> None:
        _say(sys.stderr, f"train inactivity [{time.monotonic() - started:5.1f} s] {line}")

    if args.homes < 1 or args.eval_homes < 1:
        _say(sys.stderr, "homesafe train inactivity: --homes and --eval-homes must be at least 1")
        return 2
    result = train(seed=args.seed, homes=args.homes, eval_homes=args.eval_homes,
                   data=Path(args.data) if args.data else None, trained_on=args.trained_on, say=say)
    out = Path(args.out) if args.out else shipped_artifact_path()
    save_artifact(result, out)
    say(f"artifact {out} ({out.stat().st_size / 1024:.1f} KB)")
    paths = write_report(result, Path(args.report))
    say("report " + ", ".join(str(p) for p in paths))
    _say(sys.stdout, summary_table(result.report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m homesafe.detect_inactivity detect inactivity FILE` (or `train inactivity`) alone."""
    parser = argparse.ArgumentParser(prog="homesafe")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_parsers(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
