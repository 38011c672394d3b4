"""Stored first answers of POSTs sent with an Idempotency-Key."""

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models.common import json_field, time_field


class IdempotentRequest(SQLModel, table=True):
    """The first answer to (caller, key); a retry gets it back."""

    __tablename__ = "idempotent_requests"

    principal: str = Field(primary_key=True, max_length=128)
    key: str = Field(primary_key=True, max_length=200)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    fingerprint: str = Field(max_length=64)
    status_code: int | None = None
    body: Any = json_field(nullable=True)
    created_at: datetime = time_field()
