"""The audit trail and the outbox, written in the same transaction as each change."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from models.common import json_field, time_field


class AuditEntry(SQLModel, table=True):
    """Who did what to which case, when, and why."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_kind", "subject_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    subject_kind: str = Field(max_length=32)
    subject_id: str = Field(max_length=64)
    at: datetime = time_field()
    actor: str = Field(max_length=128)
    action: str = Field(max_length=64)
    detail: dict[str, Any] = json_field(default=dict)
    dedupe_key: str = Field(max_length=200, unique=True)


class OutboxEvent(SQLModel, table=True):
    """An event other systems consume in order, at least once."""

    __tablename__ = "outbox_events"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    type: str = Field(max_length=64, index=True)
    subject: str = Field(max_length=128)
    occurred_at: datetime = time_field()
    data: dict[str, Any] = json_field(default=dict)
    dedupe_key: str = Field(max_length=200, unique=True)
