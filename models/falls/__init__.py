"""Fall detection from a body-worn 3-axis accelerometer, in any orientation (issue 4).

    detector = FallDetector.from_artifact()          # the model shipped in models/artifacts/falls.json
    stream = detector.stream(fs=50)
    for alarm in stream.push(t, xyz):                # chunks of any size; xyz (n, 3) in g
        ...                                          # FallAlarm(t, score, stage, t_impact)

Training and evaluation (`homesafe train falls`) live in `models.falls.training`.
"""

from models.base import NotFittedError
from models.falls.detector import FallDetector, infer_rate
from models.falls.features import FEATURE_NAMES, FS
from models.falls.stream import STAGE_IMPACT, STAGE_STILL_DOWN, FallAlarm, FallStream, Resampler

__all__ = [
    "FEATURE_NAMES",
    "FS",
    "STAGE_IMPACT",
    "STAGE_STILL_DOWN",
    "FallAlarm",
    "FallDetector",
    "FallStream",
    "NotFittedError",
    "Resampler",
    "infer_rate",
]
