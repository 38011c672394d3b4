"""Building rows and models from the fields of others."""

import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import SQLModel

M = TypeVar("M", bound=SQLModel)


def same_named(source: object, *names: str) -> dict[str, Any]:
    """`source`'s attributes `names`, keyed by those names (for `Model(**same_named(...))`).

    The receiving model validates them (pydantic) or declares them (a dataclass), so a name
    it does not take is an error at once, as a misspelt keyword would be.
    """
    return {name: getattr(source, name) for name in names}


def new_row(model: type[M], at: datetime, **fields: Any) -> M:
    """A new row of `model` with `fields`: a fresh id, created and last updated `at`."""
    return model(id=str(uuid.uuid4()), created_at=at, updated_at=at, **fields)
