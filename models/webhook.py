"""Webhook subscriptions and every delivery attempt made for them."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from domain.webhook import WebhookStatus
from models.common import json_field, time_field
from models.enum_column import enum_field


class WebhookSubscription(SQLModel, table=True):
    """Where a subscriber wants the feed's events of some types, and how far it got.

    `secret` signs (never shown after create); `previous_secret` also signs until
    `previous_secret_until` after a rotation. `position` is the feed position delivered
    through; `state_version` orders the workflow's writes of its state.
    """

    __tablename__ = "webhook_subscriptions"

    id: uuid.UUID = Field(primary_key=True)
    url: str = Field(max_length=2000)
    event_types: list[str] = json_field(default=list)
    description: str | None = Field(default=None, max_length=500)
    status: WebhookStatus = enum_field(WebhookStatus, max_length=16)
    secret: str = Field(max_length=200, repr=False)
    previous_secret: str | None = Field(default=None, max_length=200, repr=False)
    previous_secret_until: datetime | None = time_field(nullable=True)
    position: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    failing_since: datetime | None = time_field(nullable=True)
    last_error: str | None = Field(default=None, max_length=1000)
    state_version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    created_by: str = Field(max_length=128)
    created_at: datetime = time_field()
    updated_at: datetime = time_field()


class WebhookDelivery(SQLModel, table=True):
    """One attempt to deliver one event to one subscription (a retry writes nothing twice)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_webhook_deliveries_attempt",
            "subscription_id",
            "position",
            "attempt",
            "round",
            unique=True,
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    subscription_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False)
    )
    position: int = Field(sa_column=Column(BigInteger, nullable=False))
    round: int = Field(default=0)  # a replay delivers an event again: a new round
    event_id: str = Field(sa_column=Column(String(64), nullable=False))
    attempt: int
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = Field(default=None, max_length=1000)
    at: datetime = time_field()
