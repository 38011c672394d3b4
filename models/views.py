"""API, payload and domain shapes filled from a row's attributes of the same names."""

import dataclasses
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M")


def view_of(model: type[M], row: object, **values: Any) -> M:
    """`model` (pydantic or a dataclass) from the row's attributes that it names, then
    `values` (which win)."""
    if issubclass(model, BaseModel):
        names: list[str] = list(model.model_fields)
    else:
        names = [field.name for field in dataclasses.fields(model)]  # type: ignore[arg-type]
    data = {name: getattr(row, name) for name in names if hasattr(row, name)}
    if issubclass(model, BaseModel):
        return model.model_validate({**data, **values})
    return model(**{**data, **values})


def same_named(source: object, *names: str) -> dict[str, Any]:
    """`source`'s attributes `names`, keyed by those names (for `Model(**same_named(...))`).

    The receiving model validates them (pydantic) or declares them (a dataclass), so a name
    it does not take is an error at once, as a misspelt keyword would be.
    """
    return {name: getattr(source, name) for name in names}
