"""Histories of WebhookDeliveryWorkflow: a failed attempt and its retry timer, delivery in
order, an idle poll, pause, resume, a replay, and the stop that ends it; a run continued as
new; a stop at a run's history limit."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import WorkflowHandle

from core.settings import get_settings
from operator_cli.webhook_receiver import Receiver
from tests.replay.recording import Recording, history_json, recording
from tests.support.webhook import publish_events, receiving, subscribe
from workflows.payloads.webhook import (
    MAX_HISTORY,
    ReplayWebhookInput,
    StartWebhookInput,
    WebhookState,
    webhook_workflow_id,
)
from workflows.webhook import WebhookDeliveryWorkflow

Handle = WorkflowHandle[WebhookDeliveryWorkflow, WebhookState]


async def _delivered(rec: Recording, receiver: Receiver, count: int) -> None:
    """Let time pass until the receiver has acknowledged `count` requests."""
    for _ in range(100):
        if sum(entry["status"] == 204 for entry in receiver.received) >= count:
            return
        await rec.env.sleep(timedelta(seconds=1))
        await asyncio.sleep(0.05)
    raise AssertionError(f"not {count} deliveries")


@asynccontextmanager
async def _delivering(
    database_url: str, receiver: Receiver, subscription: int, max_history: int = MAX_HISTORY
) -> AsyncIterator[tuple[Recording, Handle]]:
    """A subscription to every event whose URL is `receiver` on loopback, two events, and
    its delivery workflow started."""
    os.environ["WEBHOOK_ALLOW_PRIVATE"] = "true"  # the receiver is on loopback
    get_settings.cache_clear()
    subscription_id = str(uuid.UUID(int=subscription))
    async with recording(database_url) as rec:
        with receiving(receiver) as url:
            receiver.secret = subscribe(rec.engine, url, subscription_id=subscription_id)
            publish_events(rec.engine, "a.one", "a.two")
            state = WebhookState(subscription_id=subscription_id)
            handle = await rec.client.start_workflow(
                WebhookDeliveryWorkflow.run,
                StartWebhookInput(state=state, max_history=max_history),
                id=webhook_workflow_id(subscription_id),
                task_queue=rec.queue,
            )
            yield rec, handle


async def record_webhook_retry_pause_replay(database_url: str) -> str:
    """Two events, the first failing once (503), then pause, resume, replay from 0, stop."""
    receiver = Receiver(script=[503])
    async with _delivering(database_url, receiver, 20) as (rec, handle):
        await _delivered(rec, receiver, 2)
        await handle.execute_update(WebhookDeliveryWorkflow.pause)
        await handle.execute_update(WebhookDeliveryWorkflow.resume)
        await handle.execute_update(WebhookDeliveryWorkflow.replay, ReplayWebhookInput(after=0))
        await _delivered(rec, receiver, 4)
        await handle.execute_update(WebhookDeliveryWorkflow.stop)
        state = await handle.result()
        assert [entry["status"] for entry in receiver.received] == [503, 204, 204, 204, 204]
        assert state.round == 1
        return await history_json(handle)


async def _continued_then_stopped(database_url: str, max_history: int) -> tuple[str, str]:
    """Runs of at most `max_history` history events: the first delivers two events, idles
    and continues as new; then a stop. The first run's history and the last one's."""
    receiver = Receiver()
    async with _delivering(database_url, receiver, 21, max_history) as (rec, handle):
        await _delivered(rec, receiver, 2)
        await rec.env.sleep(timedelta(minutes=2))  # idle polls: a few runs
        await handle.execute_update(WebhookDeliveryWorkflow.stop)
        state = await handle.result()
        first = rec.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
        assert state.position == 2
        return await history_json(first), await history_json(handle)


async def record_webhook_continue_as_new(database_url: str) -> str:
    """A run that delivers, idles past its history limit and continues as new."""
    first, _ = await _continued_then_stopped(database_url, max_history=40)
    return first


async def record_webhook_stop_before_continue_as_new(database_url: str) -> str:
    """A run past its history limit when `stop` arrives (every run is: a limit of 1 event)
    ends, with the marker of patch webhook-stop-before-continue-as-new."""
    _, last = await _continued_then_stopped(database_url, max_history=1)
    return last
