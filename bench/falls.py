"""Cost of the fall detector: per candidate, per streamed sample, and `homesafe detect falls` over many files.

Why: the detector runs per wearer on the edge and in the gateway, so its cost per sample must stay near
the cost of merely reading the samples, and the classifier must run per candidate, not per sample. Each
figure is printed with a baseline measured in the same run (DESIGN.md):

1. Per candidate: the exported trees walked with numpy on one feature row, against scikit-learn's own
   `HistGradientBoostingClassifier.predict_proba` on one row (same trees, refitted here from the shipped
   model's training rule on the same features) — and the full candidate cost (features + score).
2. Per sample: `FallStream.push` over a long recording in 1 s chunks (and sample by sample, the worst
   case), against a loop that only computes |a| of the same chunks.
3. Files: `homesafe detect falls` (in-process) over N CSVs, against `numpy.loadtxt` of the same files.

Data: the real recordings (../shared/data/falls) when present, otherwise synthetic ones. Run from the
repository root: `.venv/bin/python bench/falls.py [--files 3484]`. Plain numbers go to
`bench/results/falls.json`.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from homesafe import detect  # noqa: E402
from models.falls import FallDetector  # noqa: E402
from models.falls.detector import candidate_table  # noqa: E402
from models.falls.features import HISTORY, candidate_features, magnitude, pad_front  # noqa: E402

FS = 50.0


def _recordings(limit: int) -> tuple[list[np.ndarray], list[bool], str]:
    data = ROOT.parent / "shared" / "data" / "falls"
    if (data / "load.py").is_file():
        from models.falls.training import load_recordings

        recs = load_recordings(data)[:limit]
        return [r.acc for r in recs], [r.fall for r in recs], f"real ({data})"
    from tests.models import synth

    recs, labels, _ = synth.dataset(seed=0, n_subjects=max(1, limit // 12), per_subject=6)
    return recs[:limit], labels[:limit], "synthetic (tests/models/synth.py)"


def _best(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_candidate(det: FallDetector, recs: list[np.ndarray], labels: list[bool]) -> dict[str, float]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    table = candidate_table(recs, np.asarray(labels), trigger_g=det.trigger_g, post=det.post_samples)
    x = table.x[table.train_mask]
    y = table.y[table.train_mask]
    sk = HistGradientBoostingClassifier(max_iter=det.max_iter, learning_rate=det.learning_rate,
                                        max_depth=det.max_depth, min_samples_leaf=det.min_samples_leaf,
                                        l2_regularization=det.l2_regularization, early_stopping=False).fit(x, y)
    rows = [x[k:k + 1] for k in range(min(500, len(x)))]
    t_numpy = _best(lambda: [det.score_features(r) for r in rows]) / len(rows)
    t_sklearn = _best(lambda: [sk.predict_proba(r) for r in rows], repeat=2) / len(rows)
    padded = pad_front(recs[int(np.argmax(labels))])
    mag = magnitude(padded)
    idx = np.array([int(np.argmax(mag[HISTORY:-det.post_samples])) + HISTORY])
    t_full = _best(lambda: [det.score_features(candidate_features(padded, mag, idx, post=det.post_samples))
                            for _ in range(200)]) / 200
    return {"numpy_score_us": t_numpy * 1e6, "sklearn_predict_proba_us": t_sklearn * 1e6,
            "features_plus_score_us": t_full * 1e6, "candidates": len(table.x)}


def bench_stream(det: FallDetector, recs: list[np.ndarray]) -> dict[str, float]:
    day = np.concatenate(recs)
    t = np.arange(len(day)) / FS

    def push(chunk: int) -> None:
        stream = det.stream(FS)
        for lo in range(0, len(t), chunk):
            stream.push(t[lo:lo + chunk], day[lo:lo + chunk])

    def norms(chunk: int) -> None:
        for lo in range(0, len(t), chunk):
            magnitude(np.asarray(day[lo:lo + chunk], dtype=np.float64))

    n = len(day)
    one_s = _best(lambda: push(50), repeat=3) / n
    base = _best(lambda: norms(50), repeat=3) / n
    head = min(n, 30_000)
    single = _best(lambda: push_head(det, t[:head], day[:head]), repeat=2) / head
    return {"samples": n, "hours": n / FS / 3600, "push_1s_chunks_us_per_sample": one_s * 1e6,
            "norm_only_1s_chunks_us_per_sample": base * 1e6, "push_1_sample_chunks_us_per_sample": single * 1e6,
            "realtime_factor_1s_chunks": 1 / (one_s * FS)}


def push_head(det: FallDetector, t: np.ndarray, xyz: np.ndarray) -> None:
    stream = det.stream(FS)
    for k in range(len(t)):
        stream.push(t[k:k + 1], xyz[k:k + 1])


def bench_files(recs: list[np.ndarray], n_files: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for k in range(n_files):
            acc = recs[k % len(recs)]
            path = Path(tmp) / f"rec{k:05d}.csv"
            t = np.arange(len(acc)) / FS
            np.savetxt(path, np.column_stack([t, acc]), delimiter=",", header="t,ax,ay,az", comments="",
                       fmt=["%.2f", "%.5f", "%.5f", "%.5f"])
            paths.append(str(path))
        args = detect.build_parser().parse_args(["detect", "falls", "--progress", "never", *paths])
        out, err = io.StringIO(), io.StringIO()
        t0 = time.perf_counter()
        code = detect._cmd_detect_falls(args, out=out, err=err)
        elapsed = time.perf_counter() - t0
        if code != 0:
            raise RuntimeError(err.getvalue())
        t0 = time.perf_counter()
        for p in paths:
            np.loadtxt(p, delimiter=",", skiprows=1)
        parse = time.perf_counter() - t0
    return {"files": n_files, "seconds": elapsed, "files_per_s": n_files / elapsed, "loadtxt_only_s": parse,
            "alarms": len(out.getvalue().splitlines())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3484, help="CSV files for the CLI run (default 3484)")
    args = ap.parse_args()
    det = FallDetector.from_artifact()
    recs, labels, source = _recordings(10_000)
    print(f"data: {source}, {len(recs)} recordings")
    cand = bench_candidate(det, recs, labels)
    print(f"per candidate: numpy trees {cand['numpy_score_us']:.1f} us vs sklearn predict_proba "
          f"{cand['sklearn_predict_proba_us']:.0f} us on one row: ratio "
          f"{cand['sklearn_predict_proba_us'] / cand['numpy_score_us']:.0f}x faster; features + score "
          f"{cand['features_plus_score_us']:.0f} us")
    stream = bench_stream(det, recs)
    per_sample, norm_only = stream["push_1s_chunks_us_per_sample"], stream["norm_only_1s_chunks_us_per_sample"]
    print(f"per sample ({stream['hours']:.1f} h streamed, {cand['candidates']} candidates): push in 1 s chunks "
          f"{per_sample:.2f} us vs |a| alone {norm_only:.2f} us: ratio {per_sample / norm_only:.1f}; "
          f"sample-by-sample pushes {stream['push_1_sample_chunks_us_per_sample']:.1f} us/sample; "
          f"{stream['realtime_factor_1s_chunks']:.0f}x real time per core")
    files = bench_files(recs, args.files)
    print(f"detect falls CLI: {files['files']} files in {files['seconds']:.2f} s ({files['files_per_s']:.0f} "
          f"files/s, {files['alarms']} alarms) vs loadtxt alone {files['loadtxt_only_s']:.2f} s: ratio "
          f"{files['seconds'] / files['loadtxt_only_s']:.2f}")
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "falls.json").write_text(json.dumps({"data": source, "candidate": cand, "stream": stream,
                                                    "files": files}, indent=1) + "\n")
    print(f"ratio {files['seconds'] / files['loadtxt_only_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
