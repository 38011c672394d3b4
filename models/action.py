"""Actions: open to-dos addressed to a role (and an organisation), closed when done."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Index
from sqlmodel import Field, Session, SQLModel, col, update

from models.common import json_field, public_id_field, time_field
from models.enum_column import enum_field
from models.once import insert_once
from models.views import view_of


class ActionStatus(StrEnum):
    """Where a to-do stands."""

    OPEN = "OPEN"
    PAUSED = "PAUSED"
    DONE = "DONE"


class Action(SQLModel, table=True):
    """A to-do for every user holding `role` (within `org` when set)."""

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_open", "role", "status", "org"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: uuid.UUID | None = public_id_field()
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=64)
    subject_kind: str = Field(max_length=32)
    subject_id: str = Field(max_length=64, index=True)
    role: str = Field(max_length=32)
    org: str | None = Field(default=None, max_length=128)
    status: ActionStatus = enum_field(ActionStatus, max_length=16, default=ActionStatus.OPEN)
    title: str = Field(max_length=500)
    detail: dict[str, Any] = json_field(default=dict)
    created_at: datetime = time_field()
    updated_at: datetime = time_field()
    closed_at: datetime | None = time_field(nullable=True)


class ActionPublic(BaseModel):
    """A to-do as its addressees see it (`id`: the opaque public id)."""

    id: str
    kind: str
    subject_kind: str
    subject_id: str
    role: str
    org: str | None
    status: ActionStatus
    title: str
    detail: dict[str, Any]
    created_at: datetime


def open_action(
    session: Session,
    *,
    key: str,
    kind: str,
    subject_kind: str,
    subject_id: str,
    role: str,
    title: str,
    at: datetime,
    org: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Open a to-do once per `key` (a retry writes nothing)."""
    insert_once(
        session,
        Action,
        "key",
        key=key,
        kind=kind,
        subject_kind=subject_kind,
        subject_id=subject_id,
        role=role,
        org=org,
        title=title,
        detail=detail or {},
        created_at=at,
        updated_at=at,
    )


def set_action_status(session: Session, key: str, status: ActionStatus, at: datetime) -> None:
    """Pause, resume (OPEN) or complete (DONE) the to-do `key`; DONE is final."""
    session.execute(
        update(Action)
        .where(col(Action.key) == key, col(Action.status) != ActionStatus.DONE)
        .values(
            status=status,
            updated_at=at,
            closed_at=at if status == ActionStatus.DONE else None,
        )
    )


def action_public(row: Action) -> ActionPublic:
    """The API shape of a stored to-do: its public id, never the internal key."""
    return view_of(ActionPublic, row, id=str(row.public_id))
