"""WebhookDeliveryWorkflow: one subscription's deliveries of the event feed, in order."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from domain.console import NextStep
from domain.webhook import (
    ATTEMPT_TIMEOUT_S,
    BATCH_BUDGET_S,
    Verdict,
    WebhookStatus,
    idle_poll_delay,
    next_attempt_at,
    verdict,
    webhook_next,
)
from workflows.console import Console
from workflows.descriptions import update
from workflows.payloads.webhook import (
    MAX_HISTORY,
    DeliverWebhookInput,
    ReadWebhookEventsInput,
    ReplayWebhookInput,
    SaveWebhookStateInput,
    StartWebhookInput,
    WebhookEvent,
    WebhookState,
    deliver_webhooks,
    read_webhook_events,
    save_webhook_state,
)
from workflows.refusal import in_words
from workflows.search_keys import keys
from workflows.typevars import A, R

PAGE = 100
# An activity's own retries cover the worker and the database; a receiver's failure is an
# answer (recorded, then retried on the workflow's schedule), never an activity error.
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
TIMEOUT = timedelta(seconds=30)
# A run of attempts: the budget, the last attempt, and room for its records; a heartbeat
# after each success (a dead worker's run is retried after the last one).
DELIVERY_TIMEOUT = timedelta(seconds=BATCH_BUDGET_S + ATTEMPT_TIMEOUT_S + 15)
DELIVERY_HEARTBEAT = timedelta(seconds=ATTEMPT_TIMEOUT_S + 10)
STOP_BEFORE_CONTINUE_AS_NEW = "webhook-stop-before-continue-as-new"


@workflow.defn
class WebhookDeliveryWorkflow:
    """A subscription's delivery loop (id `webhook-{subscription}`).

    Reads the feed after its position in pages of the wanted types and delivers each event
    only once the one before it succeeded: a failure is retried with exponential backoff
    for 24 h (a durable timer; `DueAt` shows it), then the subscription is PAUSED and the
    admins get an action; a 410 disables it at once. An idle loop looks at the feed again
    after a short durable timer (1 s doubling to 10 s): no signal from event writers.
    Updates: `pause`, `resume` (also after a give-up or a 410), `replay` (from a feed
    position), `stop` (the subscription was deleted). Query: `state`.
    Activities: read_webhook_events, deliver_webhooks (a run of events, in order, until
    the first failure), save_webhook_state.
    Continue-as-new when the SDK suggests it or past `max_history` events (5,000), between
    pages, carrying the state (position, round, pause, failure); a stop then ends it.
    """

    def __init__(self) -> None:
        self._console = Console()
        self._state = WebhookState(subscription_id="")
        self._max_history = MAX_HISTORY
        self._stopped = False

    @workflow.run
    async def run(self, start: StartWebhookInput) -> WebhookState:
        """Deliver until the subscription is deleted."""
        self._state, self._max_history = start.state, start.max_history
        self._show()
        idle = 0
        while not self._stopped:
            if self._state.status != WebhookStatus.ACTIVE:
                await workflow.wait_condition(self._can_deliver)
                continue
            delivered = await self._deliver_page()
            if delivered is None:
                break  # the subscription is gone
            idle = 0 if delivered else idle + 1
            if not delivered:
                await self._sleep(idle_poll_delay(idle - 1))
            if self._too_long():
                await self._continue_as_new()
        return self._state

    @update("Stop delivering (after the attempt under way).")
    async def pause(self) -> WebhookState:
        """An operator pauses the subscription."""
        return await self._save(status=WebhookStatus.PAUSED, retry_at=None)

    @update("Deliver again from where it stopped (a fresh 24 h window).")
    async def resume(self) -> WebhookState:
        """An operator resumes a paused or disabled subscription."""
        return await self._save(
            status=WebhookStatus.ACTIVE, attempt=0, failing_since=None, retry_at=None
        )

    @update("Deliver every event after a feed position again.")
    async def replay(self, replay: ReplayWebhookInput) -> WebhookState:
        """An operator rewinds (or moves on) the subscription's position."""
        return await self._save(
            position=replay.after,
            attempt=0,
            failing_since=None,
            retry_at=None,
            round=self._state.round + 1,
        )

    @update("The subscription was deleted: end the workflow.")
    async def stop(self) -> None:
        """End after the attempt under way."""
        self._stopped = True

    @workflow.query(description="The delivery state: position, status, failing since, error.")
    def state(self) -> WebhookState:
        """The subscription's delivery state."""
        return self._state

    async def _deliver_page(self) -> bool | None:
        """Deliver the next page; whether anything was read (None: the subscription is gone)."""
        round_ = self._state.round
        page = await self._call(
            read_webhook_events,
            ReadWebhookEventsInput(
                subscription_id=self._state.subscription_id,
                after=self._state.position,
                limit=PAGE,
            ),
        )
        if not page.exists:
            return None
        if not await self._deliver(page.events, round_):
            return True
        if not page.events and page.through == self._state.position:
            return False
        if self._unchanged(round_):
            await self._save(position=page.through)
        return True

    async def _deliver(self, events: list[WebhookEvent], round_: int) -> bool:
        """Deliver `events` in order, retrying each failure on the schedule; False when the
        loop must stop or re-read (a pause, a replay, a 410, the give-up)."""
        done = 0
        while done < len(events):
            if not self._unchanged(round_):
                return False
            attempt = self._state.attempt + 1
            result = await workflow.execute_activity(
                deliver_webhooks,
                DeliverWebhookInput(
                    subscription_id=self._state.subscription_id,
                    events=events[done:],
                    attempt=attempt,
                    round=round_,
                    at=workflow.now(),
                    first_retry_s=self._state.first_retry_s,
                ),
                start_to_close_timeout=DELIVERY_TIMEOUT,
                heartbeat_timeout=DELIVERY_HEARTBEAT,
                retry_policy=RETRY,
                summary=in_words(deliver_webhooks),
            )
            if self._state.round != round_:
                return False  # replayed meanwhile: start from the new position
            if result.delivered:
                done += result.delivered
                self._state = self._state.model_copy(
                    update={
                        "position": events[done - 1].position,
                        "attempt": 0,
                        "failing_since": None,
                        "last_error": None,
                        "retry_at": None,
                    }
                )
            if result.failure is None:
                continue  # all delivered, or the call's time budget ran out
            error = result.failure.error or f"HTTP {result.failure.status_code}"
            if verdict(result.failure.status_code) == Verdict.GONE:
                await self._save(status=WebhookStatus.DISABLED, last_error=error, retry_at=None)
                return False
            await self._after_failure(result.attempt, error)
        return True

    async def _after_failure(self, attempt: int, error: str) -> None:
        """Wait for the next retry, or pause once the 24 h window is over."""
        now = workflow.now()
        failing_since = self._state.failing_since or now
        first = timedelta(seconds=self._state.first_retry_s)
        retry_at = next_attempt_at(failing_since, attempt, now, first)
        if retry_at is None:
            await self._save(
                status=WebhookStatus.PAUSED,
                attempt=attempt,
                failing_since=failing_since,
                last_error=error,
                retry_at=None,
                gave_up=True,
            )
            return
        # The attempt's activity stored the failure: only the workflow's view changes here.
        self._state = self._state.model_copy(
            update={
                "attempt": attempt,
                "failing_since": failing_since,
                "last_error": error,
                "retry_at": retry_at,
            }
        )
        self._show()
        await self._sleep(retry_at - now)

    async def _save(self, *, gave_up: bool = False, **changes: object) -> WebhookState:
        """Change the state, store it (in version order) and show it."""
        changes["version"] = self._state.version + 1
        self._state = self._state.model_copy(update=changes)
        self._show()
        await self._call(
            save_webhook_state,
            SaveWebhookStateInput(state=self._state, at=workflow.now(), gave_up=gave_up),
        )
        return self._state

    def _unchanged(self, round_: int) -> bool:
        """Still delivering this round to an active subscription."""
        return (
            not self._stopped
            and self._state.status == WebhookStatus.ACTIVE
            and self._state.round == round_
        )

    def _can_deliver(self) -> bool:
        return self._stopped or self._state.status == WebhookStatus.ACTIVE

    async def _sleep(self, delay: timedelta) -> None:
        """A durable wait (for a retry, or for new events); a replay, pause or stop ends it
        early."""
        round_ = self._state.round
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(lambda: not self._unchanged(round_), timeout=delay)

    async def _continue_as_new(self) -> None:
        """Carry the state into a new run once the handlers are done; a `stop` that came
        meanwhile ends the workflow instead (before the patch, the new run lost it)."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._stopped and workflow.patched(STOP_BEFORE_CONTINUE_AS_NEW):
            return
        workflow.continue_as_new(
            StartWebhookInput(state=self._state, max_history=self._max_history)
        )

    def _too_long(self) -> bool:
        info = workflow.info()
        too_long = info.get_current_history_length() > self._max_history
        return too_long or info.is_continue_as_new_suggested()

    def _show(self) -> None:
        state = self._state
        step: NextStep = webhook_next(state.status, state.retry_at)
        details = (
            f"**Webhook** {state.subscription_id} · {state.status.value}\n\n"
            f"delivered through feed position {state.position}"
        )
        if state.failing_since is not None:
            details += (
                f"\n\nfailing since {state.failing_since:%Y-%m-%d %H:%M:%S}Z "
                f"(attempt {state.attempt}): {state.last_error}"
            )
        self._console.show(
            step,
            [
                keys.CASE_KIND.value_set("webhook"),
                keys.CASE_STATUS.value_set([state.status.value]),
            ],
            details,
        )

    async def _call(self, activity: Callable[[A], Awaitable[R]], arg: A) -> R:
        return await workflow.execute_activity(
            activity,
            arg,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
            summary=in_words(activity),
        )
