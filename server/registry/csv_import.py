"""Bulk import of one kind of registry record from a CSV file, for a district's roll-out.

The file is UTF-8 (a spreadsheet's byte-order mark is fine), its header names the columns (the JSON
API's field names), list fields (`conditions`, `skills`, `days`) separate their items with `;`, and an
empty cell means "not given" (the default for a new record, unchanged for an existing one). Shifts and
assignments may name their responder by `responder_phone` instead of `responder_id`.

Every row is validated with the JSON API's models, and against the registry, before anything is written:
one bad row rejects the file with every problem listed by row number (the header is row 1), and nothing
is written. A good file is written in one transaction; a row whose natural key (a home's id, a device's
home and device id, a responder's phone...) exists updates that record. Each kind is its own file and
call, in roll-out order: homes and responders first, then what refers to them.
"""

from __future__ import annotations

import csv
import io
import logging
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.crud.audit import record
from server.crud.registry import (
    Kind,
    RegistryError,
    check_references,
    create_record,
    find_by_key,
    update_record,
)
from server.db.tables import ResponderRow
from server.registry.kinds import ASSIGNMENTS, CONTACTS, DEVICES, HOMES, RESIDENTS, RESPONDERS, SHIFTS
from server.schemas.registry import (
    AssignmentIn,
    ContactIn,
    DeviceIn,
    HomeIn,
    ResidentIn,
    ResponderIn,
    ShiftIn,
    values_of,
)

_LOGGER = logging.getLogger(__name__)

MAX_IMPORT_BYTES: Final = 5 * 1024 * 1024
LIST_SEPARATOR: Final = ";"
MAX_REPORTED_ERRORS: Final = 500  # a file wrong in every row need not answer with every error
HEADER_ROW: Final = 1


@dataclass(frozen=True, slots=True, order=True)
class RowError:
    """One problem in the file: its row (header = 1; `None` for the whole file), the column, and why."""

    row: int
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form listed in the 422."""
        return {"row": self.row, "field": self.field, "message": self.message}


class CsvImportError(Exception):
    """The file has problems; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problems")
        self.errors = sorted(errors)


@dataclass(frozen=True, slots=True)
class ResponderByPhone:
    """A column naming a responder by phone, in place of `responder_id` (ids are not known before a roll-out)."""

    column: str = "responder_phone"
    replaces: str = "responder_id"


@dataclass(frozen=True, slots=True)
class ImportSpec:
    """How a kind is imported: its record kind, the model each row must pass, an optional phone column."""

    kind: Kind
    model: type[BaseModel]
    by_phone: ResponderByPhone | None = None
    list_fields: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        lists = frozenset(name for name, info in self.model.model_fields.items() if _is_list(info.annotation))
        object.__setattr__(self, "list_fields", lists)

    @property
    def columns(self) -> frozenset[str]:
        """Every column the file may have."""
        extra = {self.by_phone.column} if self.by_phone is not None else set()
        return frozenset(self.model.model_fields) | extra

    @property
    def required(self) -> frozenset[str]:
        """Columns the file must have (a responder may be named by phone instead of id)."""
        return frozenset(name for name, info in self.model.model_fields.items() if info.is_required())


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is list:
        return True
    if origin in (Union, types.UnionType):
        return any(_is_list(arg) for arg in get_args(annotation))
    return False


SPECS: Final[Mapping[str, ImportSpec]] = {
    spec.kind.name: spec
    for spec in (
        ImportSpec(HOMES, HomeIn),
        ImportSpec(RESIDENTS, ResidentIn),
        ImportSpec(DEVICES, DeviceIn),
        ImportSpec(CONTACTS, ContactIn),
        ImportSpec(RESPONDERS, ResponderIn),
        ImportSpec(SHIFTS, ShiftIn, by_phone=ResponderByPhone()),
        ImportSpec(ASSIGNMENTS, AssignmentIn, by_phone=ResponderByPhone()),
    )
}


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import wrote, or in a dry run would write."""

    rows: int
    created: int
    updated: int


# --- reading the file --------------------------------------------------------------------------------


def _records(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError([RowError(HEADER_ROW, None, f"the file is not UTF-8 (byte {exc.start}); "
                                                         "save it as CSV UTF-8")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            records.append((number, [cell.strip() for cell in cells]))
    except csv.Error as exc:
        raise CsvImportError([RowError(number + 1, None, f"not readable as CSV: {exc}")]) from None
    return records


def _check_header(spec: ImportSpec, header: list[str]) -> list[RowError]:
    errors = []
    seen: set[str] = set()
    for name in header:
        if not name:
            errors.append(RowError(HEADER_ROW, None, "a column has no name"))
        elif name in seen:
            errors.append(RowError(HEADER_ROW, name, "column appears twice"))
        elif name not in spec.columns:
            expected = ", ".join(sorted(spec.columns))
            errors.append(RowError(HEADER_ROW, name, f"unknown column; expected some of: {expected}"))
        seen.add(name)
    by_phone = spec.by_phone
    for name in sorted(spec.required - seen):
        if by_phone is not None and name == by_phone.replaces and by_phone.column in seen:
            continue
        errors.append(RowError(HEADER_ROW, name, "required column missing"))
    if by_phone is not None and {by_phone.column, by_phone.replaces} <= seen:
        errors.append(RowError(HEADER_ROW, by_phone.column, f"give {by_phone.replaces} or {by_phone.column}, not both"))
    return errors


def _phone_ids(
    session: Session, spec: ImportSpec, header: list[str], body: list[tuple[int, list[str]]]
) -> dict[str, int]:
    if spec.by_phone is None or spec.by_phone.column not in header:
        return {}
    column = header.index(spec.by_phone.column)
    phones = {cells[column] for _, cells in body if column < len(cells) and cells[column]}
    if not phones:
        return {}
    rows = session.execute(select(ResponderRow.phone, ResponderRow.id).where(ResponderRow.phone.in_(sorted(phones))))
    return {phone: responder_id for phone, responder_id in rows}


def _validation_errors(number: int, exc: ValidationError) -> list[RowError]:
    errors = []
    for error in exc.errors(include_input=False, include_url=False):
        location = error["loc"]
        name = str(location[0]) if location else None
        message = "required, but the cell is empty" if error["type"] == "missing" else error["msg"]
        if len(location) > 1 and isinstance(location[1], int):
            message = f"item {location[1] + 1}: {message}"
        errors.append(RowError(number, name, message))
    return errors


# --- the import --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    number: int
    values: dict[str, Any]  # every field, defaults included: what a new record gets
    given: dict[str, Any]  # the non-empty cells: what an existing record gets


def _validate(
    session: Session, spec: ImportSpec, records: list[tuple[int, list[str]]], defaults: Mapping[str, Any]
) -> list[_Row]:
    header = [name.lower() for name in records[0][1]] if records else []
    if not header:
        raise CsvImportError([RowError(HEADER_ROW, None, "the file is empty; the first row must name the columns")])
    errors = _check_header(spec, header)
    if errors:
        raise CsvImportError(errors)
    body = [(number, cells) for number, cells in records[1:] if any(cells)]  # blank lines are skipped
    phone_ids = _phone_ids(session, spec, header, body)
    rows: list[_Row] = []
    keys: dict[tuple[Any, ...], int] = {}
    for number, cells in body:
        if len(cells) != len(header):
            errors.append(RowError(number, None, f"{len(cells)} cells for {len(header)} columns"))
            continue
        cells_by_name = {name: cell for name, cell in zip(header, cells, strict=True) if cell}
        given: dict[str, Any] = {
            name: [item.strip() for item in cell.split(LIST_SEPARATOR) if item.strip()]
            if name in spec.list_fields else cell
            for name, cell in cells_by_name.items()
        }
        if spec.by_phone is not None and spec.by_phone.column in given:
            phone = given.pop(spec.by_phone.column)
            if phone not in phone_ids:
                message = f"no responder with phone {phone} in the registry"
                errors.append(RowError(number, spec.by_phone.column, message))
                continue
            given[spec.by_phone.replaces] = phone_ids[phone]
        try:
            model = spec.model.model_validate(given)
        except ValidationError as exc:
            errors.extend(_validation_errors(number, exc))
            continue
        values = values_of(model)
        for name, value in defaults.items():
            if name in values and values[name] is None:
                values[name] = value
        try:
            check_references(session=session, kind=spec.kind, values=values)
        except RegistryError as exc:
            errors.append(RowError(number, exc.field, exc.message))
            continue
        key = tuple(repr(values[name]) for name in spec.kind.natural_key)
        if key in keys:
            names = ", ".join(spec.kind.natural_key)
            errors.append(RowError(number, spec.kind.natural_key[-1], f"same {names} as row {keys[key]}"))
            continue
        keys[key] = number
        rows.append(_Row(number, values, {name: values[name] for name in values_of(model, only_set=True)}))
    if errors:
        raise CsvImportError(errors)
    return rows


def import_csv(
    *,
    session: Session,
    kind: str,
    data: bytes,
    actor: str,
    now: datetime,
    dry_run: bool = False,
    defaults: Mapping[str, Any] | None = None,
) -> ImportOutcome:
    """Validate every row of a CSV file of `kind`, then (unless `dry_run`) write them all and one audit row.

    Raises `CsvImportError` listing every problem (nothing written), `KeyError` for an unknown kind, and
    `RegistryError` 409 when a concurrent write took a key meanwhile (nothing written).
    `defaults` fills fields a row leaves empty (a shift's time zone: the policy's).
    """
    spec = SPECS[kind]
    records = _records(data)
    rows = _validate(session, spec, records, defaults or {})
    created = updated = 0
    try:
        for row in rows:
            existing = find_by_key(session=session, kind=spec.kind, values=row.values)
            if existing is None:
                created += 1
                if not dry_run:
                    create_record(session=session, kind=spec.kind, values=row.values, now=now)
            else:
                updated += 1
                if not dry_run:
                    update_record(session=session, kind=spec.kind, row=existing, changes=row.given, now=now)
        if dry_run:
            session.rollback()
        else:
            columns = [name.lower() for name in records[0][1]]
            record(
                session=session, actor=actor, action="import", entity=kind, fields=columns, now=now,
                rows=len(rows), created=created, updated=updated,
            )
            session.commit()
    except RegistryError:
        session.rollback()
        raise
    _LOGGER.info("%s import by %s: %d rows, %d new, %d updated%s", kind, actor, len(rows), created, updated,
                 " (dry run)" if dry_run else "")
    return ImportOutcome(rows=len(rows), created=created, updated=updated)
