"""History of WebhookDeliveryWorkflow: a failed attempt and its retry timer, delivery in
order, an idle poll, pause, resume, a replay, and the stop that ends it."""

import asyncio
import os
import uuid
from datetime import timedelta

from core.settings import get_settings
from operator_cli.webhook_receiver import Receiver
from tests.replay.recording import Recording, history_json, recording
from tests.support.webhook import publish_events, receiving, subscribe
from workflows.payloads.webhook import (
    ReplayWebhookInput,
    StartWebhookInput,
    WebhookState,
    webhook_workflow_id,
)
from workflows.webhook import WebhookDeliveryWorkflow


async def _delivered(rec: Recording, receiver: Receiver, count: int) -> None:
    """Let time pass until the receiver has acknowledged `count` requests."""
    for _ in range(100):
        if sum(entry["status"] == 204 for entry in receiver.received) >= count:
            return
        await rec.env.sleep(timedelta(seconds=1))
        await asyncio.sleep(0.05)
    raise AssertionError(f"not {count} deliveries")


async def record_webhook_retry_pause_replay(database_url: str) -> str:
    """Two events, the first failing once (503), then pause, resume, replay from 0, stop."""
    os.environ["WEBHOOK_ALLOW_PRIVATE"] = "true"  # the receiver is on loopback
    get_settings.cache_clear()
    receiver = Receiver(script=[503])
    subscription_id = str(uuid.UUID(int=20))
    async with recording(database_url) as rec:
        with receiving(receiver) as url:
            receiver.secret = subscribe(rec.engine, url, subscription_id=subscription_id)
            publish_events(rec.engine, "a.one", "a.two")
            handle = await rec.client.start_workflow(
                WebhookDeliveryWorkflow.run,
                StartWebhookInput(state=WebhookState(subscription_id=subscription_id)),
                id=webhook_workflow_id(subscription_id),
                task_queue=rec.queue,
            )
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
