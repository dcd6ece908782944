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


# Escalation messages. Every one carries the alert's ref and the reply instruction, and its step number,
# so no two bodies sent to one number about one alert are the same (providers and phones fold repeats).
_TYPE_ZH: Final = {
    "SOS": "紧急呼叫",
    "FALL": "跌倒",
    "SMOKE": "烟雾报警",
    "GAS": "燃气泄漏",
    "WATER": "漏水",
    "INACTIVITY": "长时间无活动",
    "BED_EXIT_NO_RETURN": "离床未归",
    "NOT_UP": "未按时起床",
    "VITALS": "生命体征异常",
    "HOME_OFFLINE": "家中网关离线",
    "DEVICE_SILENT": "设备无响应",
    "BATTERY_LOW": "设备电量低",
    "TAMPER": "设备被拆动",
}


def _is_zh(language: str | None) -> bool:
    return bool(language) and str(language).lower().startswith("zh")


def _spelled(ref: str) -> str:
    return " ".join(ref)  # read out one character at a time


def step_message(
    *,
    channel: str,
    alert_type: str,
    home: str,
    device: str | None,
    opened_at: datetime,
    ref: str,
    step: int,
    steps: int,
    count: int = 1,
    language: str | None = None,
) -> str:
    """What a ladder step says by SMS or voice; `step` counts from 1.

    E.g. `HomeSafe SOS at home h0003 (device sos_button) 2026-11-24 03:00:12Z. Step 1/5. Reply 1 to accept,
    ref K3F9Q2`. No names, addresses or phone numbers: the home id and the ref are enough to act on.
    """
    when = opened_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if _is_zh(language):
        what = _TYPE_ZH.get(alert_type, alert_type)
        times = f"(共{count}次)" if count > 1 else ""
        if channel == "voice":
            return (
                f"平安守护警报: 住户 {home}, {what}{times}. 第{step}步, 共{steps}步. "
                f"请按1确认接单. 编号 {_spelled(ref)}."
            )
        dev = f"(设备 {device})" if device else ""
        return (
            f"HomeSafe 平安守护: 住户 {home}{dev} {what}{times} {when}. 第{step}/{steps}步. 回复1确认接单, 编号 {ref}"
        )
    what = alert_type.replace("_", " ")
    times = f" ({count} alerts)" if count > 1 else ""
    if channel == "voice":
        return (
            f"HomeSafe alert: {what}{times} at home {home}, step {step} of {steps}. "
            f"Press 1 to accept. Reference {_spelled(ref)}."
        )
    dev = f" (device {device})" if device else ""
    return f"HomeSafe {what}{times} at home {home}{dev} {when}. Step {step}/{steps}. Reply 1 to accept, ref {ref}"


def ladder_end_message(
    *, channel: str, alert_type: str, home: str, opened_at: datetime, ref: str, steps: int
) -> str:
    """The one notice to the operator when a ladder ran out without an acknowledgement."""
    when = opened_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    what = alert_type.replace("_", " ")
    if channel == "voice":
        return (
            f"HomeSafe: nobody accepted the {what} alert at home {home} after {steps} steps. "
            f"Escalation ended, please act. Press 1 to accept. Reference {_spelled(ref)}."
        )
    return (
        f"HomeSafe ESCALATION ENDED: nobody accepted {what} at home {home} {when} after {steps} steps; "
        f"please act. Reply 1 to accept, ref {ref}"
    )
