"""Per-home streaming detectors; each turns events (and the passing of event time) into alerts."""

from gateway.detectors.base import Detector, alert_for_event, event_evidence
from gateway.detectors.device_health import DeviceHealth
from gateway.detectors.falls import WearableFalls
from gateway.detectors.immediate import ImmediateAlarms
from gateway.detectors.inactivity import Inactivity
from gateway.detectors.vitals import BedVitals

__all__ = [
    "BedVitals",
    "Detector",
    "DeviceHealth",
    "ImmediateAlarms",
    "Inactivity",
    "WearableFalls",
    "alert_for_event",
    "event_evidence",
]
