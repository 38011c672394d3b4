"""Webhook subscriptions (admin): create, read, change, pause/resume, replay, delete.

Transitions (pause, resume, replay) are updates of the subscription's delivery workflow
`webhook-{id}`; the rest is the subscription's row.
"""

import contextlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import commands
from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.roles import WebhookAdmin
from api.routes.event import decode, encode
from api.routing import ReadRoute
from api.services import webhook as service
from api.services.webhook import (
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhookReplay,
    WebhookUpdate,
)
from core.dns import resolve
from domain.values import Offset
from domain.webhook import WebhookStatus, ensure_settable
from models.webhook import WebhookSubscription
from workflows.payloads.webhook import (
    ReplayWebhookInput,
    StartWebhookInput,
    WebhookState,
    webhook_workflow_id,
)
from workflows.webhook import WebhookDeliveryWorkflow

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], route_class=ReadRoute)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_webhook(
    body: WebhookCreate,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: WebhookAdmin,
) -> WebhookCreated:
    """Subscribe a URL to event types (`*`: all); the answer holds the secret, only here."""
    allow = settings.webhook_allow_private
    await run_in_threadpool(service.check_url, body.url, allow_private=allow, resolver=resolve)
    row = await run_in_threadpool(_create, engine, body, service.new_secret(), caller.sub)
    state = WebhookState(
        subscription_id=str(row.id),
        position=row.position,
        first_retry_s=settings.webhook_first_retry_s,
    )
    with contextlib.suppress(WorkflowAlreadyStartedError):  # a retried key: the first run
        await temporal.start_workflow(
            WebhookDeliveryWorkflow.run,
            StartWebhookInput(state=state),
            id=webhook_workflow_id(str(row.id)),
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"Webhook to {row.url}",
        )
    return WebhookCreated(**public(row).model_dump(), secret=row.secret)


@router.get("")
def list_webhooks(session: SessionDep, caller: WebhookAdmin) -> list[WebhookPublic]:
    """Every subscription."""
    return [public(row) for row in service.list_all(session)]


@router.get("/{webhook_id}")
def get_webhook(webhook_id: str, session: SessionDep, caller: WebhookAdmin) -> WebhookPublic:
    """One subscription: its status, how far it delivered, since when it fails and why."""
    return public(service.get(session, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookCreated | WebhookPublic)
async def update_webhook(
    webhook_id: str,
    body: WebhookUpdate,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: WebhookAdmin,
) -> WebhookCreated | WebhookPublic:
    """Change the URL or the types, pause (`PAUSED`) or resume (`ACTIVE`), or rotate the
    secret (`rotate_secret`: the new one is answered once; both sign for 24 h)."""
    if body.status is not None:
        ensure_settable(body.status)
    if body.url is not None:
        allow = settings.webhook_allow_private
        await run_in_threadpool(service.check_url, body.url, allow_private=allow, resolver=resolve)
    secret = await run_in_threadpool(_change, engine, webhook_id, body)
    if body.status is not None:
        handle = temporal.get_workflow_handle_for(
            WebhookDeliveryWorkflow.run, webhook_workflow_id(webhook_id)
        )
        update = (
            WebhookDeliveryWorkflow.pause
            if body.status == WebhookStatus.PAUSED
            else WebhookDeliveryWorkflow.resume
        )
        await handle.execute_update(update, id=commands.update_id())
    row = await run_in_threadpool(_get, engine, webhook_id)
    if secret is not None:
        return WebhookCreated(**public(row).model_dump(), secret=row.secret)
    return public(row)


@router.post("/{webhook_id}/replay")
async def replay_webhook(
    webhook_id: str,
    body: WebhookReplay,
    engine: EngineDep,
    temporal: TemporalDep,
    caller: WebhookAdmin,
) -> WebhookPublic:
    """Deliver again every wanted event after the feed cursor `after` (null: all of them)."""
    after = decode(body.after) if body.after else 0
    await run_in_threadpool(_get, engine, webhook_id)
    handle = temporal.get_workflow_handle_for(
        WebhookDeliveryWorkflow.run, webhook_workflow_id(webhook_id)
    )
    await handle.execute_update(
        WebhookDeliveryWorkflow.replay,
        ReplayWebhookInput(after=after),
        id=commands.update_id(),
    )
    return public(await run_in_threadpool(_get, engine, webhook_id))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    webhook_id: str, engine: EngineDep, temporal: TemporalDep, caller: WebhookAdmin
) -> Response:
    """Stop delivering and forget the subscription and its attempts."""
    await run_in_threadpool(_delete, engine, webhook_id)
    await _stop(temporal, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    caller: WebhookAdmin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[Offset, Query(description="attempts to skip")] = 0,
) -> list[DeliveryPublic]:
    """Every attempt in the order made: event, attempt number, status, latency, error."""
    row = service.get(session, webhook_id)
    return service.deliveries(session, row, limit=limit, offset=offset)


def public(row: WebhookSubscription) -> WebhookPublic:
    """A subscription as admins read it."""
    return WebhookPublic(
        id=str(row.id),
        url=row.url,
        event_types=row.event_types,
        description=row.description,
        status=row.status,
        delivered_through=encode(row.position),
        failing_since=row.failing_since,
        last_error=row.last_error,
        created_at=row.created_at,
    )


async def _stop(temporal: Client, webhook_id: str) -> None:
    """End the delivery workflow (nothing to do when it is not running)."""
    handle = temporal.get_workflow_handle_for(
        WebhookDeliveryWorkflow.run, webhook_workflow_id(webhook_id)
    )
    try:
        await handle.execute_update(WebhookDeliveryWorkflow.stop)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise


def _create(engine: Engine, body: WebhookCreate, secret: str, actor: str) -> WebhookSubscription:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        return service.create(
            session,
            body,
            subscription_id=commands.new_id(),
            secret=secret,
            actor=actor,
            at=datetime.now(UTC),
        )


def _get(engine: Engine, webhook_id: str) -> WebhookSubscription:
    with Session(engine) as session:
        return service.get(session, webhook_id)


def _change(engine: Engine, webhook_id: str, body: WebhookUpdate) -> str | None:
    with Session(engine) as session, session.begin():
        return service.change(session, service.get(session, webhook_id), body, at=datetime.now(UTC))


def _delete(engine: Engine, webhook_id: str) -> None:
    with Session(engine) as session, session.begin():
        service.remove(session, service.get(session, webhook_id))
