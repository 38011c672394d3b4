"""Column helpers shared by every table."""

from typing import Any

from sqlalchemy import Column, DateTime, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
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


def public_id_field() -> Any:
    """The opaque id a row shows outside (a UUID the database draws on insert).

    The integer key stays internal (order, joins); every writer, set-based ones included,
    gets the public id without naming it.
    """
    return Field(
        default=None,
        sa_column=Column(
            UUID(as_uuid=True),
            nullable=False,
            unique=True,
            server_default=text("gen_random_uuid()"),
        ),
    )
