"""First answers of unsafe requests sent with an Idempotency-Key, and the changes they made."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from models.common import json_field, time_field


class IdempotentRequest(SQLModel, table=True):
    """The first answer to (verified caller, key, method and path); a retry gets it back.

    Written once, with the answer, by the transaction that held the key's advisory lock
    while the request ran: a concurrent retry waits for it, a crash leaves no row behind.
    """

    __tablename__ = "idempotent_requests"

    principal: str = Field(primary_key=True, max_length=128)
    key: str = Field(primary_key=True, max_length=200)
    scope: str = Field(primary_key=True, max_length=64)  # sha256 of method and path
    method: str = Field(max_length=8)
    path: str = Field(sa_column=Column(Text, nullable=False))
    fingerprint: str = Field(max_length=64)  # sha256 of query string and body
    status_code: int
    headers: Any = json_field()  # [[name, value], ...]: the ones a replay repeats
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = time_field()
    expires_at: datetime = time_field(index=True)


class IdempotentChange(SQLModel, table=True):
    """Written in the same transaction as a keyed request's change: the change happened."""

    __tablename__ = "idempotent_changes"

    principal: str = Field(primary_key=True, max_length=128)
    key: str = Field(primary_key=True, max_length=200)
    scope: str = Field(primary_key=True, max_length=64)
    committed_at: datetime = time_field()
    expires_at: datetime = time_field(index=True)
