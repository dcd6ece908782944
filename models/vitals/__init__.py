"""Heart and breathing rate of a person in a home-care bed: bounds, own baseline, persistence, apnea-like pauses."""

from models.vitals.baseline import RobustBaseline
from models.vitals.monitor import VitalsAlarm, VitalsMonitor

__all__ = ["RobustBaseline", "VitalsAlarm", "VitalsMonitor"]
