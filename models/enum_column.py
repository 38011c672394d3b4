"""Status columns typed with their domain StrEnum, stored as the same VARCHAR as before."""

from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Column, Dialect, String
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A VARCHAR(n) that reads back as the enum member (the schema does not change)."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        """Bind the member's value (a plain string of the enum is checked first)."""
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        """Read the stored value back as the member."""
        return None if value is None else self.enum(value)

    @property
    def python_type(self) -> type[E]:
        """The enum, for tools that ask."""
        return self.enum


def enum_field(
    enum: type[StrEnum],
    *,
    max_length: int,
    default: Any = ...,
    nullable: bool = False,
    index: bool = False,
) -> Any:
    """A column of `enum` stored as VARCHAR(max_length) (a fresh Column per table)."""
    if default is ... and nullable:
        default = None
    column: Column[Any] = Column(
        StrEnumType(enum, max_length),
        nullable=nullable,
        index=index,
        default=None if default is ... else default,  # for inserts that leave it out
    )
    return Field(default=default, sa_column=column)
