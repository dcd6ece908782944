"""Per-home streaming detectors; each turns events (and the passing of event time) into alerts."""

from gateway.detectors.base import Detector
from gateway.detectors.immediate import ImmediateAlarms

__all__ = ["Detector", "ImmediateAlarms"]
