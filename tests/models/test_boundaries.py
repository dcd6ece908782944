"""`models` stays pure: numpy and scikit-learn only, nothing else of HomeSafe, and no scikit-learn at run time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "models"
OURS = {"gateway", "edge", "server", "simulators", "homesafe", "bench", "tests"}
FORBIDDEN = {"paho", "aiomqtt", "amqtt", "httpx", "fastapi", "sqlalchemy", "requests", "socket", "pickle", "joblib",
             "time", "datetime"}


def test_models_imports_nothing_of_ours_and_no_io_or_clock_libraries():
    """Guards against models/ reaching into other parts (DESIGN: dependencies point one way) or a clock/pickle."""
    offenders = []
    for path in MODELS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in OURS or top in FORBIDDEN:
                    offenders.append(f"{path.relative_to(MODELS.parent)}: {name}")
    assert not offenders, offenders


def test_the_hot_path_needs_no_scikit_learn():
    """Guards against the gateway/edge paying scikit-learn's import and per-sample predict costs."""
    code = (
        "import sys, numpy as np\n"
        "from models.falls import FallDetector\n"
        "s = FallDetector.from_artifact().stream(50)\n"
        "t = np.arange(500) / 50; x = np.tile([0, 0, 1.0], (500, 1)); x[200] = [0, 0, 4.0]\n"
        "s.push(t, x)\n"
        "assert 'sklearn' not in sys.modules, 'sklearn was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=MODELS.parent,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
