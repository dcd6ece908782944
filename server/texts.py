"""What notifications say: short, free of personal data, with a reference code people can quote."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
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


MAX_ALSO_NAMED: Final = 3  # more grouped types are counted, not named: an SMS stays one segment


def _also_en(also: Sequence[str]) -> str:
    if not also:
        return ""
    named = ", ".join(t.replace("_", " ") for t in also[:MAX_ALSO_NAMED])
    more = f" +{len(also) - MAX_ALSO_NAMED}" if len(also) > MAX_ALSO_NAMED else ""
    return f" (also {named}{more})"


def _also_zh(also: Sequence[str]) -> str:
    if not also:
        return ""
    named = "、".join(_TYPE_ZH.get(t, t) for t in also[:MAX_ALSO_NAMED])
    more = f"等{len(also)}项" if len(also) > MAX_ALSO_NAMED else ""
    return f"(另有{named}{more})"


def group_followup_message(
    *, alert_type: str, home: str, ref: str, leader_type: str, leader_ref: str, language: str | None = None
) -> str:
    """The one text that tells someone already reached about a storm's leader of another alert of that home.

    E.g. `HomeSafe also: GAS at home h0003, ref B2C3D4 (with SMOKE ref A1B2C3)`. No reply asked: the
    leader's ladder is what asks to accept; its ref tells the two apart.
    """
    if _is_zh(language):
        what, leader = _TYPE_ZH.get(alert_type, alert_type), _TYPE_ZH.get(leader_type, leader_type)
        return f"HomeSafe 平安守护 另有: 住户 {home} {what}, 编号 {ref} (同一住户的{leader} 编号 {leader_ref})"
    what, leader = alert_type.replace("_", " "), leader_type.replace("_", " ")
    return f"HomeSafe also: {what} at home {home}, ref {ref} (with {leader} ref {leader_ref})"


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
    also: Sequence[str] = (),
) -> str:
    """What a ladder step says by SMS or voice; `step` counts from 1.

    E.g. `HomeSafe SOS at home h0003 (device sos_button) 2026-11-24 03:00:12Z. Step 1/5. Reply 1 to accept,
    ref K3F9Q2`. No names, addresses or phone numbers: the home id and the ref are enough to act on.
    `also` names the types grouped under this alert (a storm), e.g. `HomeSafe SMOKE (also GAS) at home ...`.
    """
    when = opened_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if _is_zh(language):
        what = _TYPE_ZH.get(alert_type, alert_type) + _also_zh(also)
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
    what = alert_type.replace("_", " ") + _also_en(also)
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
