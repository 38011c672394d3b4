"""WebhookDeliveryWorkflow under the time-skipping server, against a receiver on loopback:
the retry schedule, the pause after 24 h, resume, replay, 410, order and filtering."""

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import activities_of
from activities.webhook import WebhookActivities
from core import temporal as keys
from domain.webhook import GIVE_UP_AFTER, WebhookStatus, retry_delay
from models.action import Action, ActionStatus
from models.webhook import WebhookDelivery, WebhookSubscription
from operator_cli.webhook_receiver import Receiver
from tests.support.webhook import publish_events, receiving, subscribe
from worker import SANDBOX
from workflows.payloads.webhook import (
    MAX_HISTORY,
    ReplayWebhookInput,
    StartWebhookInput,
    WebhookState,
    webhook_workflow_id,
)
from workflows.webhook import WebhookDeliveryWorkflow

Handle = WorkflowHandle[WebhookDeliveryWorkflow, WebhookState]


@pytest.fixture
async def env(
    ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> AsyncIterator[WorkflowEnvironment]:
    """A worker for webhook deliveries that may reach loopback."""
    async with Worker(
        ts_env.client,
        task_queue=task_queue,
        workflows=[WebhookDeliveryWorkflow],
        workflow_runner=SANDBOX,
        activities=activities_of(WebhookActivities(db, allow_private=True)),
        activity_executor=ThreadPoolExecutor(4),
    ):
        yield ts_env


@contextmanager
def _subscribed(db: Engine, receiver: Receiver, *types: str) -> Iterator[str]:
    """A subscription to `types` (default all) whose URL is `receiver` on loopback; its id."""
    subscription_id = str(uuid.uuid4())
    with receiving(receiver) as url:
        receiver.secret = subscribe(db, url, *types, subscription_id=subscription_id)
        yield subscription_id


async def _start(
    env: WorkflowEnvironment, task_queue: str, subscription_id: str, max_history: int = MAX_HISTORY
) -> Handle:
    state = WebhookState(subscription_id=subscription_id)
    return await env.client.start_workflow(
        WebhookDeliveryWorkflow.run,
        StartWebhookInput(state=state, max_history=max_history),
        id=webhook_workflow_id(subscription_id),
        task_queue=task_queue,
    )


async def _until(env: WorkflowEnvironment, done: Callable[[], bool], step: timedelta) -> None:
    """Let workflow time pass in `step`s (and real time for the HTTP calls) until `done`."""
    for _ in range(400):
        if done():
            return
        await env.sleep(step)
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")


def _attempts(db: Engine, subscription_id: str) -> list[WebhookDelivery]:
    with Session(db) as session:
        query = (
            select(WebhookDelivery)
            .where(col(WebhookDelivery.subscription_id) == uuid.UUID(subscription_id))
            .order_by(col(WebhookDelivery.id))
        )
        return list(session.exec(query).all())


def _row(db: Engine, subscription_id: str) -> WebhookSubscription:
    with Session(db) as session:
        row = session.get(WebhookSubscription, uuid.UUID(subscription_id))
        assert row is not None
        return row


def _actions(db: Engine, subscription_id: str) -> list[tuple[str, ActionStatus]]:
    with Session(db) as session:
        rows = session.exec(select(Action).where(col(Action.subject_id) == subscription_id)).all()
        return [(row.role, row.status) for row in rows]


def _delivered(receiver: Receiver) -> list[object]:
    return [entry["type"] for entry in receiver.received if entry["status"] == 204]


async def test_failures_are_retried_on_the_backoff_schedule(
    env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    receiver = Receiver(script=[503, 500, 503])
    with _subscribed(db, receiver) as sub:
        publish_events(db, "a.one")
        handle = await _start(env, task_queue, sub)
        await _until(env, lambda: len(receiver.received) == 4, timedelta(seconds=1))
        state = await handle.query(WebhookDeliveryWorkflow.state)
    attempts = _attempts(db, sub)
    assert [a.attempt for a in attempts] == [1, 2, 3, 4]
    assert [a.status_code for a in attempts] == [503, 500, 503, 204]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    for attempt, gap in enumerate(gaps, start=1):
        assert retry_delay(attempt) <= gap < retry_delay(attempt) + timedelta(seconds=3)
    assert retry_delay(1) < retry_delay(2) < retry_delay(3)
    assert all(entry["valid"] for entry in receiver.received)
    assert state.failing_since is None
    assert state.attempt == 0
    assert state.position == attempts[-1].position


async def test_after_24_hours_of_failures_it_pauses_and_tells_the_admins_then_resumes(
    env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    receiver = Receiver(answer=503)
    with _subscribed(db, receiver) as sub:
        publish_events(db, "a.one", "a.two")
        handle = await _start(env, task_queue, sub)
        await _until(env, lambda: _row(db, sub).status == WebhookStatus.PAUSED, timedelta(hours=1))
        attempts = _attempts(db, sub)
        row = _row(db, sub)
        assert row.failing_since is not None
        assert row.last_error == "HTTP 503: "
        assert attempts[-1].at - attempts[0].at >= GIVE_UP_AFTER
        assert attempts[-1].at - attempts[0].at < GIVE_UP_AFTER + timedelta(hours=1)
        assert {a.event_id for a in attempts} == {attempts[0].event_id}  # never the next one
        assert _actions(db, sub) == [("admin", ActionStatus.OPEN)]
        await env.sleep(timedelta(hours=6))
        assert len(_attempts(db, sub)) == len(attempts)  # paused: nothing more is tried

        receiver.answer = None
        state = await handle.execute_update(WebhookDeliveryWorkflow.resume)
        assert state.status == WebhookStatus.ACTIVE
        await _until(env, lambda: len(_delivered(receiver)) == 2, timedelta(seconds=1))
    assert _delivered(receiver) == ["a.one", "a.two"]
    assert _actions(db, sub) == [("admin", ActionStatus.DONE)]
    assert _row(db, sub).failing_since is None


async def test_410_gone_disables_at_once(
    env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    receiver = Receiver(answer=410)
    with _subscribed(db, receiver) as sub:
        publish_events(db, "a.one", "a.two")
        await _start(env, task_queue, sub)
        await _until(
            env, lambda: _row(db, sub).status == WebhookStatus.DISABLED, timedelta(seconds=1)
        )
        await env.sleep(timedelta(hours=2))
    assert [a.status_code for a in _attempts(db, sub)] == [410]
    assert _actions(db, sub) == [("admin", ActionStatus.OPEN)]


async def test_events_go_in_feed_order_filtered_by_type_and_a_replay_sends_them_again(
    env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    receiver = Receiver()
    with _subscribed(db, receiver, "a.one", "a.three") as sub:
        publish_events(db, "a.one", "b.two", "a.three", "a.one")
        handle = await _start(env, task_queue, sub)
        await _until(env, lambda: len(_delivered(receiver)) == 3, timedelta(seconds=1))
        assert _delivered(receiver) == ["a.one", "a.three", "a.one"]
        await _until(env, lambda: _row(db, sub).position == 4, timedelta(seconds=1))

        state = await handle.execute_update(
            WebhookDeliveryWorkflow.replay, ReplayWebhookInput(after=2)
        )
        assert state.position == 2
        assert state.round == 1
        await _until(env, lambda: len(_delivered(receiver)) == 5, timedelta(seconds=1))
    assert _delivered(receiver)[3:] == ["a.three", "a.one"]
    first, again = receiver.received[1], receiver.received[3]
    assert first["webhook_id"] == again["webhook_id"]  # the same event, the same webhook-id


async def test_a_paused_subscription_sends_nothing_until_resumed(
    env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    receiver = Receiver()
    with _subscribed(db, receiver) as sub:
        handle = await _start(env, task_queue, sub)
        await handle.execute_update(WebhookDeliveryWorkflow.pause)
        publish_events(db, "a.one")
        await env.sleep(timedelta(minutes=10))
        assert receiver.received == []
        assert _row(db, sub).status == WebhookStatus.PAUSED
        await handle.execute_update(WebhookDeliveryWorkflow.resume)
        await _until(env, lambda: len(_delivered(receiver)) == 1, timedelta(seconds=1))
        await handle.execute_update(WebhookDeliveryWorkflow.stop)
        state = await handle.result()
    assert state.status == WebhookStatus.ACTIVE
    assert state.position == 1


async def test_the_console_shows_the_next_retry_and_the_failure(
    env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    receiver = Receiver(answer=503)
    with _subscribed(db, receiver) as sub:
        publish_events(db, "a.one")
        handle = await _start(env, task_queue, sub)
        await _until(env, lambda: len(receiver.received) >= 2, timedelta(seconds=1))
        # The retries go on meanwhile: read the attributes between two equal states.
        for _ in range(50):
            state = await handle.query(WebhookDeliveryWorkflow.state)
            described = await handle.describe()
            if await handle.query(WebhookDeliveryWorkflow.state) == state:
                break
    found = described.typed_search_attributes
    assert found.get(keys.CASE_KIND) == "webhook"
    assert found.get(keys.WAITING_ON) == "timer"
    assert found.get(keys.DUE_AT) == state.retry_at
    assert state.retry_at is not None
    assert found.get(keys.CASE_STATUS) == ["ACTIVE"]


async def _runs(env: WorkflowEnvironment, handle: Handle) -> list[StartWebhookInput]:
    """What each run of the workflow started from, first to latest (a continue-as-new ends
    one run and starts the next with the state it carries)."""
    run_id, starts = handle.first_execution_run_id, []
    while run_id:
        history = await env.client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        [start] = await env.client.data_converter.decode(
            started.input.payloads, [StartWebhookInput]
        )
        starts.append(start)
        last = history.events[-1]
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return starts


def _collapsed(receiver: Receiver) -> list[object]:
    """The events the receiver was sent, a retry of the event just sent counted once."""
    sent = [entry["event_id"] for entry in receiver.received]
    return [event for n, event in enumerate(sent) if n == 0 or sent[n - 1] != event]


async def test_delivery_goes_on_in_order_across_continue_as_new_with_cursor_and_pause(
    env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    """Runs of at most 40 history events: pages, idle polls, retries and a give-up span
    several runs; each run starts from the position, failure and pause its last one held."""
    receiver = Receiver(script=[503, 204, 204, 503])  # two retries in the first page
    types = [f"a.n{n}" for n in range(12)]
    with _subscribed(db, receiver) as sub:
        publish_events(db, *types[:6])
        handle = await _start(env, task_queue, sub, max_history=40)
        await _until(env, lambda: len(_delivered(receiver)) == 6, timedelta(seconds=1))
        await env.sleep(timedelta(minutes=3))  # idle polls, every 10 s
        idle = await _runs(env, handle)
        publish_events(db, *types[6:10], start=6)
        await _until(env, lambda: len(_delivered(receiver)) == 10, timedelta(seconds=1))

        receiver.answer = 503
        publish_events(db, *types[10:], start=10)
        await _until(env, lambda: _row(db, sub).status == WebhookStatus.PAUSED, timedelta(hours=1))
        gave_up = len(_attempts(db, sub))
        await env.sleep(timedelta(hours=6))
        tried = len(_attempts(db, sub))
        paused = await _runs(env, handle)
        receiver.answer = None
        state = await handle.execute_update(WebhookDeliveryWorkflow.resume)
        await _until(env, lambda: len(_delivered(receiver)) == 12, timedelta(seconds=1))
        after = await handle.query(WebhookDeliveryWorkflow.state)
    attempts = _attempts(db, sub)
    position = {a.event_id: a.position for a in attempts}
    delivered = [a.event_id for a in attempts if a.status_code == 204]

    assert len(idle) >= 4  # continued as new while idle
    assert idle[-1].state.position == position[delivered[5]]  # the cursor carried over
    assert all(start.max_history == 40 for start in paused)
    assert len(paused) > len(idle)
    held = paused[-1].state  # the run after the give-up started paused, still failing
    assert (held.status, held.position, held.last_error) == (
        WebhookStatus.PAUSED,
        position[delivered[9]],
        "HTTP 503: ",
    )
    assert held.failing_since is not None
    assert held.attempt > 1
    assert tried == gave_up  # nothing was tried while paused
    assert [a.status_code for a in attempts[tried:]] == [204, 204]
    assert state.status == WebhookStatus.ACTIVE
    assert after.position == max(position.values())
    assert [entry["type"] for entry in receiver.received if entry["status"] == 204] == types
    assert len(set(delivered)) == len(delivered) == 12  # each event delivered once
    assert _collapsed(receiver) == delivered  # and in order: a retry only repeats the last
    for event_id in delivered:
        tries = [a.attempt for a in attempts if a.event_id == event_id]
        assert tries == list(range(1, len(tries) + 1))


async def test_a_stop_ends_the_workflow_when_its_run_is_due_to_continue_as_new(
    env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    """A run past its history limit when `stop` arrives ends; it does not start another."""
    receiver = Receiver()
    with _subscribed(db, receiver) as sub:
        publish_events(db, "a.one")
        handle = await _start(env, task_queue, sub, max_history=1)  # every run is too long
        await _until(env, lambda: len(_delivered(receiver)) == 1, timedelta(seconds=1))
        await handle.execute_update(WebhookDeliveryWorkflow.stop)
        await env.sleep(timedelta(minutes=5))
        described = await handle.describe()
        runs = await _runs(env, handle)
    assert len(runs) > 1
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert runs[-1].state.position == _row(db, sub).position
