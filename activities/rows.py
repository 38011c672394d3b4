"""Locking one row by its primary key, as each activity's transaction starts."""

from typing import TypeVar

from sqlmodel import Session, SQLModel

from domain.errors import NotFound

T = TypeVar("T", bound=SQLModel)


def lock_row(session: Session, model: type[T], key: str, missing: str) -> T:
    """Row `key` of `model`, locked for the rest of the transaction (`missing`: the 404)."""
    row = session.get(model, key, with_for_update=True)
    if row is None:
        raise NotFound(missing)
    return row
