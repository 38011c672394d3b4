"""Rows written once per natural key: a retry of the same write inserts nothing."""

from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, SQLModel


def insert_once(session: Session, model: type[SQLModel], unique: str, **values: Any) -> None:
    """Insert one `model` row unless a row with the same `unique` column already exists."""
    session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=[unique]))
