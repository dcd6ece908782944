"""Welfare visits and the visiting-care reports as the API takes and shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

MAX_NOTES_LENGTH: Final = 2000
# A phone's clock may run a little ahead of the server's; a visit further in the future is a typo.
CLOCK_SKEW: Final = timedelta(minutes=1)
MONTH_PATTERN: Final = r"^[0-9]{4}-(0[1-9]|1[0-2])$"

Month = Annotated[str, Field(pattern=MONTH_PATTERN, examples=["2025-03"], description="a local calendar month")]
Notes = Annotated[str, Field(max_length=MAX_NOTES_LENGTH)]


class VisitIn(BaseModel):
    """A visit to log. A responder logs their own; an operator or admin names the visitor in `responder_id`."""

    model_config = ConfigDict(extra="forbid")

    home: Annotated[str, Field(min_length=1, max_length=64)]
    at: AwareDatetime | None = None  # when the visit happened; now when left out
    notes: Notes | None = None
    responder_id: Annotated[int, Field(ge=1)] | None = None

    @field_validator("at")
    @classmethod
    def _not_in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("a visit cannot be logged for a time in the future")
        return value


class VisitPublic(BaseModel):
    """A logged visit; `notes` are shown to those who may see the home, and never logged."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    home: str
    responder_id: int | None
    at: datetime
    notes: str | None
    channel: str  # api, sms
    logged_at: datetime
    logged_by: str


class CommunityVisitRate(BaseModel):
    """One community's visiting care in one month.

    `duty`: residents who must be visited (special difficulty, or living in a home with an assigned visitor);
    `visited`: those of them whose home had at least one visit in the month; `rate` = visited / duty
    (`None` when nobody has the duty); `gap` = target - rate; `unvisited` = duty - visited.
    """

    community: str
    month: str
    duty: int
    visited: int
    unvisited: int
    rate: float | None
    target: float
    gap: float | None


class VisitRateReport(BaseModel):
    """The monthly visit rate per community, the month taken in `timezone` (`start` inclusive, `end` exclusive)."""

    month: str
    timezone: str
    start: datetime
    end: datetime
    target: float
    communities: list[CommunityVisitRate]
    total: CommunityVisitRate  # every community of the report together (`community` = "*")


class VisitorRef(BaseModel):
    """A visitor assigned to a home: the id always, the name only for operators and admins."""

    responder_id: int
    name: str | None = None


class OverdueResident(BaseModel):
    """A resident with the visiting duty whose home has had no visit yet this month."""

    resident_id: int
    category: str
    home: str
    community: str
    visitors: list[VisitorRef]
    last_visit_at: datetime | None
    days_since_last_visit: int | None  # whole days up to `as_of`; None when never visited


class OverdueReport(BaseModel):
    """Who is overdue as of `as_of`, most overdue first (never visited, then longest ago)."""

    as_of: datetime
    month: str
    timezone: str
    residents: list[OverdueResident]
