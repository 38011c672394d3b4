"""Webhook subscriptions in PostgreSQL: create, read, change, delete, and their attempts."""

import base64
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Annotated

import pydantic
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from api.idempotency import rerun_on_retry
from core.dns import Resolver
from domain.errors import Invalid, NotFound, field_error
from domain.values import Title
from domain.webhook import (
    MAX_EVENT_TYPES,
    MAX_URL_CHARS,
    WebhookStatus,
    parse_url,
    refused_addresses,
)
from models.event import OutboxEvent
from models.webhook import WebhookDelivery, WebhookSubscription

# After a rotation the previous secret signs too, for this long (decision 0093).
ROTATION_GRACE = timedelta(hours=24)

EventType = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_]+)*)$")]
Url = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_CHARS)]
EventTypes = Annotated[list[EventType], pydantic.Field(min_length=1, max_length=MAX_EVENT_TYPES)]


class WebhookCreate(BaseModel):
    """Body of POST /v1/webhooks."""

    model_config = ConfigDict(extra="forbid")

    url: Url
    event_types: EventTypes
    description: Title | None = None


class WebhookUpdate(BaseModel):
    """Body of PATCH /v1/webhooks/{id}: only the fields given change (`rotate_secret`: a new
    secret, answered once; the old one also signs for 24 h)."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    event_types: EventTypes | None = None
    status: WebhookStatus | None = None
    rotate_secret: bool = False


class WebhookReplay(BaseModel):
    """Body of POST /v1/webhooks/{id}/replay: deliver again every event after the feed
    cursor `after` (a `next_cursor` of `GET /v1/events`; null: from the feed's start)."""

    model_config = ConfigDict(extra="forbid")

    after: Annotated[str, StringConstraints(max_length=512)] | None


class WebhookPublic(BaseModel):
    """A subscription as admins read it (never its secret). `delivered_through`: the feed
    cursor it has delivered through (saved at least once per page of the feed)."""

    id: str
    url: str
    event_types: list[str]
    description: str | None
    status: WebhookStatus
    delivered_through: str
    failing_since: datetime | None
    last_error: str | None
    created_at: datetime


class WebhookCreated(WebhookPublic):
    """A subscription just created or rotated, with its secret (shown only here)."""

    secret: str


class DeliveryPublic(BaseModel):
    """One attempt to deliver one event."""

    event_id: str
    attempt: int
    status_code: int | None
    latency_ms: int | None
    error: str | None
    at: datetime


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form (`whsec_` + base64 of 24 bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def check_url(url: str, *, allow_private: bool, resolver: Resolver) -> str:
    """`url` when a delivery may go there now; 422 naming `url` otherwise."""
    target = parse_url(url, allow_private=allow_private)
    refusal = refused_addresses(resolver(target.host, target.port), allow_private=allow_private)
    if refusal is not None:
        raise Invalid("the webhook URL is not allowed", errors=[field_error("url", refusal)])
    return url


def feed_end(session: Session) -> int:
    """The feed position of the newest event (a new subscription starts after it)."""
    return int(session.exec(select(func.coalesce(func.max(OutboxEvent.id), 0))).one() or 0)


def create(
    session: Session,
    body: WebhookCreate,
    *,
    subscription_id: str,
    secret: str,
    actor: str,
    at: datetime,
) -> WebhookSubscription:
    """Store a new ACTIVE subscription, delivering from the next event on.

    A keyed create retried after a crash (between this commit and the answer) finds the
    row its first attempt stored under the key's id and returns it, secret included: the
    caller never received the first answer, so this one is the only time it is shown.
    """
    rerun_on_retry(session)  # every row written here is keyed by the request's own id
    earlier = session.get(WebhookSubscription, uuid.UUID(subscription_id))
    if earlier is not None:
        return earlier
    row = WebhookSubscription(
        id=uuid.UUID(subscription_id),
        url=body.url,
        event_types=list(dict.fromkeys(body.event_types)),
        description=body.description,
        status=WebhookStatus.ACTIVE,
        secret=secret,
        position=feed_end(session),
        created_by=actor,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    return row


def get(session: Session, subscription_id: str) -> WebhookSubscription:
    """One subscription; 404 when there is none."""
    try:
        key = uuid.UUID(subscription_id)
    except ValueError:
        key = None
    row = session.get(WebhookSubscription, key) if key else None
    if row is None:
        raise NotFound("no such webhook subscription")
    return row


def list_all(session: Session) -> list[WebhookSubscription]:
    """Every subscription, oldest first."""
    query = select(WebhookSubscription).order_by(col(WebhookSubscription.created_at))
    return list(session.exec(query).all())


def change(
    session: Session, row: WebhookSubscription, body: WebhookUpdate, *, at: datetime
) -> str | None:
    """Apply a PATCH's URL, types and rotation to `row`; the new secret when rotated."""
    if body.url is not None:
        row.url = body.url
    if body.event_types is not None:
        row.event_types = list(dict.fromkeys(body.event_types))
    rotated = None
    if body.rotate_secret:
        rotated = new_secret()
        row.previous_secret, row.previous_secret_until = row.secret, at + ROTATION_GRACE
        row.secret = rotated
    row.updated_at = at
    session.add(row)
    session.flush()
    return rotated


def remove(session: Session, row: WebhookSubscription) -> None:
    """Delete a subscription and its recorded attempts."""
    session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == row.id))
    session.delete(row)
    session.flush()


def deliveries(
    session: Session, row: WebhookSubscription, *, limit: int, offset: int
) -> list[DeliveryPublic]:
    """The subscription's attempts in the order they were made."""
    query = (
        select(WebhookDelivery)
        .where(col(WebhookDelivery.subscription_id) == row.id)
        .order_by(col(WebhookDelivery.id))
        .offset(offset)
        .limit(limit)
    )
    return [
        DeliveryPublic.model_validate(attempt, from_attributes=True)
        for attempt in session.exec(query).all()
    ]
