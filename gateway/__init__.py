"""Streaming core: MQTT ingest, validation, per-home state, detectors and alert hand-off."""
