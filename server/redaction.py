"""Keeping phone numbers out of logs written by code that is not ours, or by tracebacks.

Our own log lines name recipients by key ("responder:12", "contact:3"), never by number. What this
module covers is the rest: the `twilio` library logs each API request it makes (`twilio.http_client`,
INFO), and an exception's text in a logged traceback may quote a number. A filter on those loggers masks
every E.164 number in the record (`+8613800000001` -> `+86*******0001`) before any handler formats it.
A logger's filter sees only the records logged on that very logger, so each one is named here.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Final

REDACTED_LOGGERS: Final = (
    "twilio.http_client",  # the library's request log: URLs, query strings, headers
    "server.dispatch",  # tracebacks of a notifier that raised something unexpected
    "server.background",  # tracebacks of failed sweeps
    "uvicorn.error",  # "Exception in ASGI application" with the request's traceback
)
# "+", or "%2B" in a URL-encoded query, then 7-15 digits: E.164 as providers take it.
_PHONE: Final = re.compile(r"(\+|%2[Bb])([1-9]\d)(\d{1,9})(\d{4})(?!\d)")


def mask_phones(text: str) -> str:
    """`text` with each phone number's middle digits starred: the country code and last 4 digits stay."""
    return _PHONE.sub(lambda m: f"{m[1]}{m[2]}{'*' * len(m[3])}{m[4]}", text)


class PhoneRedactor(logging.Filter):
    """Masks phone numbers in a record's message and traceback; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (formatted message, no args; traceback as masked text)."""
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatted here, masked, and kept as exc_text: handlers print exc_text as given.
            record.exc_text = mask_phones("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        return True


_REDACTOR: Final = PhoneRedactor()


def install() -> None:
    """Put the redactor on every logger of `REDACTED_LOGGERS`; calling it again adds nothing."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
