"""Column helpers shared by every table."""

from typing import Any

from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field


def json_field(*, nullable: bool = False, default: Any = None) -> Any:
    """A JSONB column (a fresh Column per table)."""
    kwargs: dict[str, Any] = {"sa_column": Column(JSONB, nullable=nullable)}
    if callable(default):
        kwargs["default_factory"] = default
    else:
        kwargs["default"] = default
    return Field(**kwargs)


def time_field(*, nullable: bool = False, index: bool = False) -> Any:
    """A `timestamptz` column; rows are stamped with the workflow's `at`, never now()."""
    return Field(
        default=None if nullable else ...,
        sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index),
    )
