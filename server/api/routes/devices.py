"""Devices installed in the homes, under the ids their events carry.

Operators and integrators (installers, test benches) write them; everyone reads them, responders only
in their communities. Credentials are write-only: a device shows `has_credentials`, never the secret.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from server.api.deps import ReaderDep, SessionDep
from server.api.registry import (
    InstallerDep,
    Limit,
    Offset,
    RecordKey,
    create_one,
    delete_one,
    read_many,
    read_one,
    update_one,
)
from server.registry.kinds import DEVICES
from server.schemas.registry import DeviceIn, DevicePatch, DevicePublic, DeviceType

router = APIRouter(prefix="/devices", tags=["registry"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_device(device: DeviceIn, session: SessionDep, principal: InstallerDep) -> DevicePublic:
    """Register a device; 422 naming `home` when it is not registered, 409 when the home has that id already."""
    return DevicePublic.of(create_one(session=session, principal=principal, kind=DEVICES, body=device))


@router.get("")
def read_devices(
    *,
    session: SessionDep,
    principal: ReaderDep,
    home: str | None = None,
    type: DeviceType | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DevicePublic]:
    """Devices in the order they were registered, optionally of one home or type."""
    rows = read_many(
        session=session, principal=principal, kind=DEVICES, filters={"home": home, "type": type},
        limit=limit, offset=offset,
    )
    return [DevicePublic.of(row) for row in rows]


@router.get("/{device_id}")
def read_device(device_id: RecordKey, session: SessionDep, principal: ReaderDep) -> DevicePublic:
    """One device by its registry id; 404 unknown, 403 outside the caller's communities."""
    return DevicePublic.of(read_one(session=session, principal=principal, kind=DEVICES, record_id=device_id))


@router.patch("/{device_id}")
def patch_device(
    device_id: RecordKey, patch: DevicePatch, session: SessionDep, principal: InstallerDep
) -> DevicePublic:
    """Change a device; `credentials: null` removes its credentials."""
    return DevicePublic.of(
        update_one(session=session, principal=principal, kind=DEVICES, record_id=device_id, patch=patch)
    )


@router.delete("/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_device(device_id: RecordKey, session: SessionDep, principal: InstallerDep) -> None:
    """Remove a device."""
    delete_one(session=session, principal=principal, kind=DEVICES, record_id=device_id)
