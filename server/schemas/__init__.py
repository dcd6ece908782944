"""What the HTTP API takes and returns, kept apart from the tables: one module per area.

Alerts come in as the wire contract's msgspec structs (decoded in the ingest route), so nothing here
re-declares the protocol; these models are the server's own view of its rows.
"""

from server.schemas.alerts import (
    AckIn,
    Actor,
    AlertDetail,
    AlertPublic,
    Community,
    Health,
    HomeIn,
    HomePublic,
    IngestResult,
    NotificationPublic,
    Phone,
    ResolveIn,
    ResponderIn,
    ResponderPublic,
    TimelineEntry,
)

__all__ = [
    "AckIn",
    "Actor",
    "AlertDetail",
    "AlertPublic",
    "Community",
    "Health",
    "HomeIn",
    "HomePublic",
    "IngestResult",
    "NotificationPublic",
    "Phone",
    "ResolveIn",
    "ResponderIn",
    "ResponderPublic",
    "TimelineEntry",
]
