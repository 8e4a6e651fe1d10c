"""Row mappers: the frozen dataclasses the rest of the bot sees, to and from table rows.

Both directions go by name, through SQLAlchemy's own row mapping: a value is built from the
columns of ``row._mapping`` that name its fields, and a row from the fields that name a column of
its table. A caller spells out only the few fields whose stored form differs (an enum kept as its
string, a list kept as JSON, a ts read from the outbox), so a field added beside a column of the
same name needs no mapper change.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Row, Table

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def from_row(cls: type[T], row: Row[Any], **differing: Any) -> T:
    """A ``cls`` from the row's columns named like its fields, with ``differing`` on top."""
    columns = row._mapping
    values = {f.name: columns[f.name] for f in fields(cls) if f.name in columns}
    return cls(**(values | differing))


def to_row(value: DataclassInstance, table: Table, **differing: Any) -> dict[str, Any]:
    """The columns of ``table`` from the fields of ``value`` named like them, with ``differing``
    on top. Fields are read as they are, not copied (``dataclasses.asdict`` would deep-copy a
    post's payload only for it to be serialised)."""
    values = {f.name: getattr(value, f.name) for f in fields(value) if f.name in table.c}
    return values | differing
