"""API and payload shapes filled from a row's attributes of the same names."""

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def view_of(model: type[M], row: object, **values: Any) -> M:
    """`model` from the row's attributes that it names, then `values` (which win)."""
    data = {name: getattr(row, name) for name in model.model_fields if hasattr(row, name)}
    return model.model_validate({**data, **values})
