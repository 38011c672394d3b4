"""The audit trail and the outbox, written in the same transaction as each change."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, Session, SQLModel

from models.common import json_field, public_id_field, time_field


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
    public_id: uuid.UUID | None = public_id_field()  # the feed's `id`; `id` is its position
    type: str = Field(max_length=64, index=True)
    subject: str = Field(max_length=128)
    occurred_at: datetime = time_field()
    data: dict[str, Any] = json_field(default=dict)
    dedupe_key: str = Field(max_length=200, unique=True)


def write_audit(
    session: Session,
    *,
    subject_kind: str,
    subject_id: str,
    at: datetime,
    actor: str,
    action: str,
    key: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit row; a retry with the same `key` writes nothing."""
    session.execute(
        insert(AuditEntry)
        .values(
            subject_kind=subject_kind,
            subject_id=subject_id,
            at=at,
            actor=actor,
            action=action,
            detail=detail or {},
            dedupe_key=key,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


def publish(
    session: Session,
    *,
    type: str,
    subject: str,
    at: datetime,
    key: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Queue one outbox event; a retry with the same `key` writes nothing."""
    session.execute(
        insert(OutboxEvent)
        .values(type=type, subject=subject, occurred_at=at, data=data or {}, dedupe_key=key)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


def record_change(
    session: Session,
    *,
    subject_kind: str,
    subject_id: str,
    action: str,
    at: datetime,
    actor: str,
    key: str,
    detail: dict[str, Any],
    data: dict[str, Any] | None = None,
    audit_extra: dict[str, Any] | None = None,
    event_type: str | None = None,
) -> None:
    """One change's audit row (`detail` + `audit_extra`, e.g. an operator's note) and its
    `{subject_kind}.{action}` event (`data` + `detail`), under one key."""
    write_audit(
        session,
        subject_kind=subject_kind,
        subject_id=subject_id,
        at=at,
        actor=actor,
        action=action,
        key=key,
        detail={**detail, **(audit_extra or {})},
    )
    publish(
        session,
        type=event_type or f"{subject_kind}.{action}",
        subject=subject_id,
        at=at,
        key=key,
        data={**(data or {}), **detail},
    )
