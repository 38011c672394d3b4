"""Building rows and models from the fields of others."""

import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import SQLModel

from models.views import same_named

M = TypeVar("M", bound=SQLModel)
__all__ = ["M", "new_row", "same_named"]


def new_row(model: type[M], at: datetime, **fields: Any) -> M:
    """A new row of `model` with `fields`: a fresh id, created and last updated `at`."""
    return model(id=str(uuid.uuid4()), created_at=at, updated_at=at, **fields)
