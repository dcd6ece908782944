"""What notifications say: short, free of personal data, with a reference code people can quote."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Final

from gateway.protocol import Alert

# Crockford base32: no I, L, O, U, so a code read out over the phone is not misheard or mistyped.
REF_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_LENGTH: Final = 6


def alert_ref(alert_id: str) -> str:
    """A 6-character code derived from the alert id (stable, so a replayed alert keeps its code)."""
    number = int.from_bytes(hashlib.sha256(alert_id.encode()).digest()[:8], "big")
    chars = []
    for _ in range(REF_LENGTH):
        number, digit = divmod(number, len(REF_ALPHABET))
        chars.append(REF_ALPHABET[digit])
    return "".join(chars)


def alert_sms(alert: Alert, *, ref: str) -> str:
    """The SMS body, e.g. `HomeSafe SOS at home h0003 (device sos_button) 2026-11-24 03:00:12Z. Ref K3F9Q2`."""
    when = datetime.fromtimestamp(alert.ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    what = str(alert.type).replace("_", " ")
    device = f" (device {alert.device})" if alert.device else ""
    return f"HomeSafe {what} at home {alert.home}{device} {when}. Ref {ref}"
