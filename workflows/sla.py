"""SlaWorkflow: one timed service level that pauses, warns, breaches and stops."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

from domain.calendar import BusinessCalendar, instant_after
from domain.console import sla_next
from domain.sla import (
    SlaEvent,
    SlaEventKind,
    SlaStatus,
    accepts,
    elapsed,
    is_running,
    next_due,
    status,
)
from workflows.cancellation import AfterCancel, on_operator_cancel, operator_of_cancel
from workflows.console import Console, first_task
from workflows.descriptions import SLA_HELP
from workflows.payloads.sla import (
    AppendSlaEventInput,
    CancelSlaInput,
    CatchUpSlaInput,
    OpenSlaInput,
    RecordSlaDueInput,
    SlaLogRow,
    SlaState,
    StartSlaInput,
    append_sla_event,
    cancel_sla,
    catch_up_sla_with_candidate,
    open_sla,
    record_sla_due,
    sla_workflow_id,
)
from workflows.refusal import in_words
from workflows.resumption import record_resumption
from workflows.search_keys import keys
from workflows.typevars import A, R

TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
# Timers at the wall instant the instance's business calendar gives (decision 0094).
CALENDAR_PATCH = "sla-business-calendar"
# A pause, resume or stop is appended by a local activity: a stop ends the run in one
# workflow task instead of two with an activity task between, and with one upsert of its
# search attributes instead of two (decision 0101).
APPEND_LOCAL = "sla-append-local"


@workflow.defn
class SlaWorkflow:
    """An SLA instance (id `sla-{definition}-{subject}`).

    Signals: `candidate_changed` (pause or resume as the candidate's stored status says:
    any number, in any order, end the same), `pause`, `resume`, `stop`. Query: `state`.
    Timer: the next warning or the breach, for the remaining running time; a pause
    cancels it and a resume re-arms it (no burst of stale timers). On a business calendar
    (pinned when the instance opened) running time is working time, and the timer is armed
    for the wall instant at which working time reaches the threshold.
    Cancel (Temporal UI or CLI): the clock stops there, the instance is CANCELLED (a STOP
    row, an audit row with the operator and reason CANCELLED_BY_OPERATOR, `sla.cancelled`)
    and the run ends Canceled; an instance stopped meanwhile just completes.
    Activities: open_sla (which reloads the log: a run restarted by reconcile times the
    remaining goal from it), append_sla_event (a local activity: patch `sla-append-local`),
    catch_up_sla_with_candidate, record_sla_due, cancel_sla, find_cancel_requester,
    record_resumption.
    """

    def __init__(self) -> None:
        self._console = Console()
        self._candidate_id: str | None = None
        self._pending: list[SlaEventKind] = []
        self._catch_up = False
        self._state: SlaState | None = None
        self._append_local = False
        self._stop_published = False  # the STOP appended locally is what the UI shows

    async def _stop_for_operator(self, start: StartSlaInput) -> SlaState | AfterCancel:
        """A cancel request: stop the clock as CANCELLED, recorded for the operator."""
        actor, note = await operator_of_cancel()
        cancel = CancelSlaInput(**_instance(start), actor=actor, note=note)
        self._state = await self._call(cancel_sla, cancel)
        state = self._publish()
        return AfterCancel.END_CANCELLED if state.status == SlaStatus.CANCELLED else state

    @workflow.run
    @on_operator_cancel(_stop_for_operator)
    async def run(self, start: StartSlaInput) -> SlaState:
        """Open the instance, then time it until it stops."""
        self._candidate_id = start.candidate_id
        # Decided in the first task (its marker there, not on a stop's path); runs from
        # before replay it as not patched and keep regular activities.
        self._append_local = workflow.patched(APPEND_LOCAL)
        if first_task():
            self._show_opening(start)
        self._state = await self._call(open_sla, OpenSlaInput(**_instance(start)))
        if first_task():
            self._publish()
        if start.resumed is not None:
            await record_resumption(start.resumed, subject_kind="sla", subject_id=start.subject)
        if start.start_paused:
            self._pending.insert(0, SlaEventKind.PAUSE)
        while True:
            await self._apply_pending()
            if self._log()[-1].kind == SlaEventKind.STOP:
                return self._require() if self._stop_published else self._publish()
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    start.model_copy(update={"start_paused": False, "resumed": None})
                )
            await self._wait_for_next()

    @workflow.signal(description=SLA_HELP["candidate_changed"])
    def candidate_changed(self) -> None:
        """The candidate's status changed: pause or resume as the database now says."""
        self._catch_up = True

    @workflow.signal(description=SLA_HELP["pause"])
    def pause(self) -> None:
        """The subject's candidate became inactive."""
        self._pending.append(SlaEventKind.PAUSE)

    @workflow.signal(description=SLA_HELP["resume"])
    def resume(self) -> None:
        """The subject's candidate is active again."""
        self._pending.append(SlaEventKind.RESUME)

    @workflow.signal(description=SLA_HELP["stop"])
    def stop(self) -> None:
        """The stop event happened (e.g. the outcome was released)."""
        self._pending.append(SlaEventKind.STOP)

    @workflow.query(description=SLA_HELP["state"])
    def state(self) -> SlaState | None:
        """The instance with its log."""
        return self._state

    async def _wait_for_next(self) -> None:
        state = self._require()
        passed = [*state.warned, *([1.0] if state.breached_at else [])]
        found = next_due(
            self._log(),
            workflow.now(),
            timedelta(seconds=state.goal_s),
            state.warning_fractions,
            passed,
            self._calendar(),
        )
        if found is None:
            await workflow.wait_condition(self._has_news)
            return
        due, moment = found
        remaining = moment - workflow.now()
        if remaining > timedelta():
            try:
                await workflow.wait_condition(
                    self._has_news,
                    timeout=remaining,
                    timeout_summary="SLA breach"
                    if due.is_breach
                    else f"SLA warning at {due.fraction:.0%}",
                )
                return  # a pause, resume or stop came first: the timer is cancelled
            except TimeoutError:
                pass
        await self._call(
            record_sla_due,
            RecordSlaDueInput(
                instance_id=state.instance_id, fraction=due.fraction, at=workflow.now()
            ),
        )
        if due.is_breach:
            self._state = state.model_copy(update={"breached_at": workflow.now()})
        else:
            self._state = state.model_copy(update={"warned": [*state.warned, due.fraction]})
        self._publish()

    async def _apply_pending(self) -> None:
        while self._pending:
            kind = self._pending.pop(0)
            state = self._require()
            if not accepts(self._log(), kind):
                continue  # a pause while paused, or anything after the stop: nothing to record
            row = SlaLogRow(kind=kind, at=workflow.now())
            append = AppendSlaEventInput(
                instance_id=state.instance_id, seq=len(state.log), kind=kind, at=row.at
            )
            await self._call(append_sla_event, append, local=self._append_local)
            self._state = state.model_copy(update={"log": [*state.log, row]})
            self._publish()
            self._stop_published = self._append_local and kind == SlaEventKind.STOP
        if self._catch_up:
            self._catch_up = False
            if self._log()[-1].kind != SlaEventKind.STOP:
                await self._catch_up_with_candidate()

    async def _catch_up_with_candidate(self) -> None:
        state = self._require()
        at = workflow.now()
        catch_up = CatchUpSlaInput(instance_id=state.instance_id, seq=len(state.log), at=at)
        caught = await self._call(catch_up_sla_with_candidate, catch_up)
        if caught.kind is not None:
            row = SlaLogRow(kind=caught.kind, at=at)
            self._state = state.model_copy(update={"log": [*state.log, row]})
            self._publish()

    def _calendar(self) -> BusinessCalendar | None:
        """The pinned calendar, or None for wall time (and in runs from before calendars)."""
        spec = self._require().working_calendar
        if spec is None or not workflow.patched(CALENDAR_PATCH):
            return None
        return spec.rules()

    def _has_news(self) -> bool:
        return bool(self._pending) or self._catch_up

    def _log(self) -> list[SlaEvent]:
        return [SlaEvent(row.kind, row.at) for row in self._require().log]

    def _require(self) -> SlaState:
        assert self._state is not None
        return self._state

    def _publish(self) -> SlaState:
        state = self._require()
        current = status(self._log(), breached=state.breached_at is not None)
        if state.status == SlaStatus.CANCELLED:  # the log alone reads as stopped (MET)
            current = state.status
        self._state = state = state.model_copy(update={"status": current})
        now, goal, calendar = workflow.now(), timedelta(seconds=state.goal_s), self._calendar()
        running = elapsed(self._log(), now, calendar)
        breach_at = None
        if is_running(self._log()):
            left = goal - running
            breach_at = (
                now + left
                if calendar is None
                else instant_after(calendar, now, max(left.total_seconds(), 0))
            )
        self._console.show(
            sla_next(current, breach_at),
            [
                *_attributes(state.definition, self._candidate_id, current),
                keys.CASE_STATUS.value_set([current.value]),
                keys.BREACHED.value_set(state.breached_at is not None),
            ],
            f"**{current.value}** · SLA `{state.definition}` v{state.version} · subject "
            f"{state.subject} · goal {goal} · running {running}"
            + (f" · calendar `{state.working_calendar.code}`" if state.working_calendar else "")
            + (f" · breached {state.breached_at:%Y-%m-%d %H:%M}Z" if state.breached_at else ""),
        )
        return state

    def _show_opening(self, start: StartSlaInput) -> None:
        """The first task: what the start says, before the instance is opened."""
        opening = SlaStatus.PAUSED if start.start_paused else SlaStatus.RUNNING
        self._console.show(
            sla_next(opening, None),
            _attributes(start.definition, start.candidate_id, opening),
            f"**OPENING** · SLA `{start.definition}` · subject {start.subject}",
        )

    async def _call(
        self, activity: Callable[[A], Awaitable[R]], arg: A, *, local: bool = False
    ) -> R:
        """Run one activity; `local`: as a local activity (patch `sla-append-local`)."""
        execute = workflow.execute_local_activity if local else workflow.execute_activity
        return await execute(
            activity,
            arg,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
            summary=in_words(activity),
        )


def _instance(start: StartSlaInput) -> dict[str, Any]:
    """What names the instance in its opening and cancelling inputs (and the time)."""
    return {
        "instance_id": sla_workflow_id(start.definition, start.subject),
        "definition": start.definition,
        "subject": start.subject,
        "candidate_id": start.candidate_id,
        "at": workflow.now(),
    }


def _attributes(
    definition: str, candidate_id: str | None, current: SlaStatus
) -> list[SearchAttributeUpdate[Any]]:
    updates: list[SearchAttributeUpdate[Any]] = [
        keys.CASE_KIND.value_set("sla"),
        keys.SLA_DEFINITION.value_set(definition),
        keys.SLA_STATUS.value_set(current.value),
    ]
    if candidate_id is not None:
        updates.append(keys.CANDIDATE_ID.value_set(candidate_id))
    return updates
