"""Bulk CSV import of the registry for a district roll-out: `POST /api/import/{kind}` with a `text/csv` body.

Admins and operators only. Every row is checked first; any problem is a 422 listing `{row, field,
message}` for each (header = row 1) and nothing is written. `?dry_run=true` checks and counts only.
The format is described in `server/registry/csv_import.py`; `server/registry/examples/` has a file per kind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, HTTPException, Request, status

from server.api.deps import EscalationDep, OperatorDep, SessionDep
from server.api.registry import http_error
from server.crud.registry import RegistryError
from server.registry.csv_import import MAX_IMPORT_BYTES, MAX_REPORTED_ERRORS, CsvImportError, import_csv
from server.schemas.registry import ImportKind, ImportResult

router = APIRouter(prefix="/import", tags=["registry"])

CSV_MEDIA_TYPES: Final = frozenset({"text/csv", "application/csv", "text/plain", "application/octet-stream"})


def _too_large() -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        detail=f"CSV larger than {MAX_IMPORT_BYTES} bytes; split the file (e.g. by community)",
    )


async def csv_body(request: Request) -> bytes:
    """The CSV body: 415 for another media type, 413 past `MAX_IMPORT_BYTES` (read no further)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type and media_type not in CSV_MEDIA_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=f"send the file as text/csv, not {media_type}"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/{kind}",
    responses={
        413: {"description": "the file is larger than 5 MB"},
        422: {"description": "problems in the file, as a list of {row, field, message}; nothing was written"},
    },
)
def import_registry(
    *,
    kind: ImportKind,
    principal: OperatorDep,
    session: SessionDep,
    escalation: EscalationDep,
    body: Annotated[bytes, Depends(csv_body)],
    dry_run: bool = False,
) -> ImportResult:
    """Create or update the records of one kind from a CSV file, all or nothing."""
    try:
        outcome = import_csv(
            session=session, kind=kind, data=body, actor=principal.key, now=datetime.now(UTC), dry_run=dry_run,
            defaults={"timezone": escalation.policy.timezone},
        )
    except CsvImportError as exc:
        listed = [error.as_dict() for error in exc.errors[:MAX_REPORTED_ERRORS]]
        if len(exc.errors) > MAX_REPORTED_ERRORS:
            more = len(exc.errors) - MAX_REPORTED_ERRORS
            listed.append({"row": None, "field": None, "message": f"{more} more problems not listed"})
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=listed) from None
    except RegistryError as exc:
        raise http_error(exc) from None
    return ImportResult(
        kind=kind, rows=outcome.rows, created=outcome.created, updated=outcome.updated, dry_run=dry_run
    )
