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
    IngestResult,
    NotificationPublic,
    Phone,
    ResolveIn,
    TimelineEntry,
)
from server.schemas.auth import AuditPublic, TokenCreated, TokenIn, TokenPublic
from server.schemas.registry import HomeIn, HomePublic, ResponderIn, ResponderPublic
from server.schemas.visits import (
    CommunityVisitRate,
    OverdueReport,
    OverdueResident,
    VisitIn,
    VisitorRef,
    VisitPublic,
    VisitRateReport,
)

__all__ = [
    "AckIn",
    "Actor",
    "AlertDetail",
    "AlertPublic",
    "AuditPublic",
    "Community",
    "CommunityVisitRate",
    "Health",
    "HomeIn",
    "HomePublic",
    "IngestResult",
    "NotificationPublic",
    "OverdueReport",
    "OverdueResident",
    "Phone",
    "ResolveIn",
    "ResponderIn",
    "ResponderPublic",
    "TimelineEntry",
    "TokenCreated",
    "TokenIn",
    "TokenPublic",
    "VisitIn",
    "VisitPublic",
    "VisitRateReport",
    "VisitorRef",
]
