"""Rows as an activity's transaction starts: one locked by its primary key, or a new one
filled from its command."""

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import Session, SQLModel

from domain.errors import NotFound

T = TypeVar("T", bound=SQLModel)


def lock_row(session: Session, model: type[T], key: str, missing: str) -> T:
    """Row `key` of `model`, locked for the rest of the transaction (`missing`: the 404)."""
    row = session.get(model, key, with_for_update=True)
    if row is None:
        raise NotFound(missing)
    return row


def row_from(model: type[T], command: BaseModel, **values: Any) -> T:
    """A new `model` row: the command's fields that the table names alike, then `values`
    (which win)."""
    alike = type(command).model_fields.keys() & model.model_fields.keys()
    return model(**{name: getattr(command, name) for name in alike}, **values)


def inserted(session: Session, row: T) -> T:
    """`row` added and flushed: in the transaction, with what the database fills in (ids)."""
    session.add(row)
    session.flush()
    return row
