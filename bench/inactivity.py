"""Cost of the inactivity monitor: per event in the gateway's hot path, and `homesafe detect inactivity`.

Why: the gateway feeds every ambient event of every home to its monitor, and the CLI must replay months of
a home in seconds. Each figure is printed with a baseline measured in the same run (DESIGN.md):

1. Per event: `InactivityMonitor.on_event` over simulated homes (five sensor layouts, 60 days each),
   against a loop that only keeps each sensor's last value (the least a stateful detector must do).
2. File: `homesafe detect inactivity` (in-process) over one CSV.gz of those events, against reading and
   parsing the same file with the same reader and nothing else.

Run from the repository root: `.venv/bin/python bench/inactivity.py [--days 60]`. Plain numbers go to
`bench/results/inactivity.json`.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from homesafe.detect_inactivity import LAYOUTS, SIM_UTC_OFFSET_S, detect_file, read_events, simulated_home  # noqa: E402
from models.inactivity import InactivityMonitor  # noqa: E402


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=60.0, help="simulated days per home (default 60)")
    args = parser.parse_args()
    homes = [simulated_home(900 + k, days=args.days, layout=layout) for k, layout in enumerate(LAYOUTS)]
    events = [e for h in homes for e in h.events]
    print(f"{len(homes)} simulated homes x {args.days:g} days: {len(events)} events")

    def monitor_all() -> None:
        for home in homes:
            monitor = InactivityMonitor(utc_offset_s=SIM_UTC_OFFSET_S)
            for ts, sensor, kind, value in home.events:
                monitor.on_event(ts, sensor, kind, value)

    def last_values() -> None:
        for home in homes:
            state: dict[str, int] = {}
            for _, sensor, _, value in home.events:
                state[sensor] = value

    t_monitor, t_base = _best(monitor_all), _best(last_values)
    per_event = t_monitor / len(events) * 1e6
    print(f"on_event: {per_event:.2f} us/event ({len(events) / t_monitor:,.0f} events/s); baseline (last value per "
          f"sensor) {t_base / len(events) * 1e6:.2f} us/event; ratio {t_monitor / t_base:.1f}")

    home = max(homes, key=lambda h: len(h.events))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "home.csv.gz"
        lines = ["ts,sensor,kind,value"] + [f"{ts:.6f},{s},{k},{v}" for ts, s, k, v in home.events]
        path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
        t_cli = _best(lambda: detect_file(path, out=io.StringIO(), err=io.StringIO(), utc_offset_s=SIM_UTC_OFFSET_S,
                                          progress="never"))
        t_read = _best(lambda: sum(1 for _ in read_events(path)))
    rows = len(home.events)
    print(f"detect inactivity ({home.layout}, {args.days:g} days, {rows} rows): {t_cli:.2f} s = {rows / t_cli:,.0f} "
          f"rows/s; baseline (read and parse only) {t_read:.2f} s; ratio {t_cli / t_read:.2f}")
    results = {"events": len(events), "us_per_event": per_event, "baseline_us_per_event": t_base / len(events) * 1e6,
               "cli_rows": rows, "cli_s": t_cli, "cli_rows_per_s": rows / t_cli, "read_s": t_read,
               "ratio_cli_vs_read": t_cli / t_read}
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "inactivity.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
