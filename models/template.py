"""Published template versions (immutable once written)."""

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models.common import json_field, time_field


class Template(SQLModel, table=True):
    """One published version of a template; a new POST makes the next version."""

    __tablename__ = "templates"

    code: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    name: str = Field(max_length=500)
    definition: dict[str, Any] = json_field()
    published_at: datetime = time_field()
    published_by: str = Field(max_length=128)
