"""The audit trail and the outbox, written in the same transaction as each change."""

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, Session, SQLModel

from models.common import json_field, public_id_field, time_field
from models.once import insert_once


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


@dataclass(frozen=True)
class Change:
    """One change to one subject: what was done to it, by whom, when, under one retry key."""

    subject_kind: str
    subject_id: str
    action: str
    actor: str
    at: datetime
    key: str

    def audit(self, session: Session, detail: dict[str, Any] | None = None) -> None:
        """Its audit row; a retry with the same key writes nothing."""
        insert_once(
            session,
            AuditEntry,
            "dedupe_key",
            **asdict(self, dict_factory=_audit_columns),
            detail=detail or {},
        )

    def record(
        self,
        session: Session,
        detail: dict[str, Any],
        *,
        data: dict[str, Any] | None = None,
        audit_extra: dict[str, Any] | None = None,
        event_type: str | None = None,
        event_subject: str | None = None,
    ) -> None:
        """Its audit row (`detail` + `audit_extra`, e.g. an operator's note) and its event
        (`{subject_kind}.{action}` unless `event_type`; `data` + `detail`), under one key."""
        self.audit(session, {**detail, **(audit_extra or {})})
        publish(
            session,
            type=event_type or f"{self.subject_kind}.{self.action}",
            subject=event_subject or self.subject_id,
            at=self.at,
            key=self.key,
            data={**(data or {}), **detail},
        )


def _audit_columns(fields: list[tuple[str, Any]]) -> dict[str, Any]:
    """A change's fields as audit columns (its `key` is the row's `dedupe_key`)."""
    return {"dedupe_key" if name == "key" else name: value for name, value in fields}


def write_audit(session: Session, *, detail: dict[str, Any] | None = None, **change: Any) -> None:
    """Append one audit row for the `Change` named by keyword; a retry with the same `key`
    writes nothing."""
    Change(**change).audit(session, detail)


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
    insert_once(
        session,
        OutboxEvent,
        "dedupe_key",
        type=type,
        subject=subject,
        occurred_at=at,
        data=data or {},
        dedupe_key=key,
    )


def record_change(
    session: Session,
    *,
    detail: dict[str, Any],
    data: dict[str, Any] | None = None,
    audit_extra: dict[str, Any] | None = None,
    event_type: str | None = None,
    **change: Any,
) -> None:
    """`Change.record` for the change named by keyword."""
    Change(**change).record(
        session, detail, data=data, audit_extra=audit_extra, event_type=event_type
    )
