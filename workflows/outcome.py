"""OutcomeReleaseWorkflow: one result or certification from submission to release."""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

from domain.console import outcome_next
from domain.errors import Conflict
from domain.outcome import (
    OutcomeKind,
    OutcomeStatus,
    ReleaseMethod,
    ensure_allowed,
    ensure_future_release,
)
from workflows.cancellation import AfterCancel, on_operator_cancel, operator_of_cancel
from workflows.case_workflow import CaseWorkflow, P
from workflows.descriptions import OUTCOME_HELP, update
from workflows.payloads.outcome import (
    AmendOutcomeInput,
    CancelOutcomeScheduleInput,
    OutcomeReleasedNotice,
    OutcomeSnapshot,
    QaSignoffInput,
    RecordAmendmentInput,
    RecordOutcomeSubmissionInput,
    RecordQaSignoffInput,
    RecordReleaseInput,
    RecordScheduleInput,
    ReleaseNowInput,
    ScheduleReleaseInput,
    StartOutcomeReleaseInput,
    SubmitOutcomeInput,
    cancel_outcome_schedule,
    record_outcome_amendment,
    record_outcome_submission,
    record_qa_signoff,
    release_outcome,
    resume_outcome,
    schedule_outcome_release,
)
from workflows.payloads.resumption import Resumption
from workflows.payloads.sla import (
    StartSlaInput,
    StopSlasInput,
    sla_workflow_id,
    start_sla,
    stop_slas,
)
from workflows.refusal import ACTIVITY_RETRY, ACTIVITY_TIMEOUT, as_failure, in_words, run_recording
from workflows.resumption import resumption_input
from workflows.search_keys import keys
from workflows.typevars import A

# The one busy key: an outcome takes one change at a time.
OUTCOME = "outcome"
BUSY = "another change to this outcome is in progress"

# A schedule already due (e.g. after an outage) still goes through a (tiny) timer.
MIN_WAIT = timedelta(milliseconds=1)
# Starting and stopping SLAs are local activities (decision 0091).
SLA_CALLS_LOCAL = "sla-calls-local"


@workflow.defn
class OutcomeReleaseWorkflow(CaseWorkflow[OutcomeSnapshot]):
    """One outcome (id `result-{id}` or `certification-{id}`), submitted → released.

    Updates: `submit` (with start), `qa_signoff`, `amend`, `release_now`, `schedule_release`.
    Signal: `released` (a batch released it). Query: `state`.
    Timer: the outcome's own scheduled release (re-armed when moved, cancelled by "now").
    Cancel (Temporal UI or CLI): an outcome is never withdrawn, so the run goes on. The
    outcome's own scheduled release is dropped (it stays PENDING_RELEASE with its to-do;
    an audit row with the operator and reason CANCELLED_BY_OPERATOR, and
    `*.release_unscheduled`); with no own schedule the cancel is refused and the audit row
    says why. Temporal delivers only a run's first cancel request.
    Activities: record_outcome_submission, record_qa_signoff, record_outcome_amendment,
    release_outcome, schedule_outcome_release, cancel_outcome_schedule,
    find_cancel_requester; start_sla and stop_slas as local activities (patch
    `sla-calls-local`); resume_outcome first when reconcile restarted it (`resumed`: the
    outcome and its own schedule as stored).
    """

    @workflow.init
    def __init__(self, start: StartOutcomeReleaseInput) -> None:
        super().__init__(
            OutcomeSnapshot(
                kind=start.kind,
                outcome_id=start.outcome_id,
                candidate_id=start.candidate_id,
                status=OutcomeStatus.SUBMITTED,
                grade=start.grade,
                revision=-1,
            ),
            # Restarted by reconcile: nothing is decided until the outcome loads.
            busy={OUTCOME} if start.resumed is not None else (),
        )
        self._start = start
        self._armed: datetime | None = None
        self._element_id: str | None = None
        self._sla_started = False
        self._slas_stopped = False

    async def _unschedule_for_operator(
        self, start: StartOutcomeReleaseInput
    ) -> OutcomeSnapshot | AfterCancel:
        """A cancel request: drop the own schedule (or refuse, saying why); the run goes on."""
        # Other changes wait (409) until the cancel is handled.
        self._closed_to_changes = BUSY
        actor, note = await operator_of_cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        # A scheduled release the cancel cut short may still run: the row decides (both
        # lock it, and a release needs the schedule the cancel drops). Stopping the SLAs,
        # the run's last step, may have been cut short too: the record below does it again.
        self._slas_stopped = False
        command = self._command(CancelOutcomeScheduleInput, actor=actor, note=note)
        try:
            await self._change(cancel_outcome_schedule, command)
        finally:
            self._closed_to_changes = None
        self._armed = None  # a schedule set again for the same instant must arm a timer
        return AfterCancel.CARRY_ON

    @workflow.run
    @on_operator_cancel(_unschedule_for_operator)
    async def run(self, start: StartOutcomeReleaseInput) -> OutcomeSnapshot:
        """Live until released; while the outcome holds its own schedule, wait for it."""
        if start.resumed is not None:
            await self._resume(start.resumed)
        while self._state.status != OutcomeStatus.RELEASED:
            await workflow.wait_condition(
                lambda: self._released() or self._schedule() not in (None, self._armed)
            )
            if not self._released():
                await self._watch_schedule()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._follow_slas()  # a batch release arrives as a signal
        return self._state

    @workflow.query(description=OUTCOME_HELP["state"])
    def state(self) -> OutcomeSnapshot:
        """The outcome as the workflow sees it."""
        return self._state

    @update(OUTCOME_HELP["submit"])
    async def submit(self, command: SubmitOutcomeInput) -> OutcomeSnapshot:
        """Record the submission: QA, release at once, or wait for release."""
        self._element_id = command.element_id
        return await self._act(
            record_outcome_submission,
            RecordOutcomeSubmissionInput,
            command.actor,
            candidate_id=command.candidate_id,
            element_id=command.element_id,
            grade=command.grade,
            sampled_for_qa=command.sampled_for_qa,
        )

    @submit.validator
    def _validate_submit(self, command: SubmitOutcomeInput) -> None:
        self._refuse_if_busy(OUTCOME)
        if self._state.revision >= 0:
            raise as_failure(Conflict("the outcome has already been submitted"))

    @update(OUTCOME_HELP["qa_signoff"])
    async def qa_signoff(self, command: QaSignoffInput) -> OutcomeSnapshot:
        """QA passes (complete: released or pending) or fails (back for amendment)."""
        return await self._act(
            record_qa_signoff,
            RecordQaSignoffInput,
            command.actor,
            passed=command.passed,
            release_with_qa=command.release_with_qa,
            round=self._state.amendments,
        )

    @qa_signoff.validator
    def _validate_qa(self, command: QaSignoffInput) -> None:
        self._refuse_unless_allowed("qa")

    @update(OUTCOME_HELP["amend"])
    async def amend(self, command: AmendOutcomeInput) -> OutcomeSnapshot:
        """The assessor's corrected grade goes back to QA (a VOID is released at once)."""
        amendment = self._state.amendments + 1
        return await self._act(
            record_outcome_amendment,
            RecordAmendmentInput,
            command.actor,
            grade=command.grade,
            amendment=amendment,
        )

    @amend.validator
    def _validate_amend(self, command: AmendOutcomeInput) -> None:
        self._refuse_unless_allowed("amend")

    @update(OUTCOME_HELP["release_now"])
    async def release_now(self, command: ReleaseNowInput) -> OutcomeSnapshot:
        """Release at once (MANUAL); a schedule it replaces stops waiting."""
        method = ReleaseMethod.MANUAL
        return await self._act(release_outcome, RecordReleaseInput, command.actor, method=method)

    @release_now.validator
    def _validate_release_now(self, command: ReleaseNowInput) -> None:
        self._refuse_unless_allowed("release_now")

    @update(OUTCOME_HELP["schedule_release"])
    async def schedule_release(self, command: ScheduleReleaseInput) -> OutcomeSnapshot:
        """Schedule (or move) the release; the run loop re-arms its timer."""
        at = command.release_at
        return await self._act(
            schedule_outcome_release, RecordScheduleInput, command.actor, release_at=at
        )

    @schedule_release.validator
    def _validate_schedule(self, command: ScheduleReleaseInput) -> None:
        self._refuse_unless_allowed("schedule_release")
        self._guard(lambda: ensure_future_release(command.release_at, workflow.now()))

    @workflow.signal(description=OUTCOME_HELP["released"])
    def released(self, notice: OutcomeReleasedNotice) -> None:
        """A batch released the outcome in the database: finish."""
        if self._state.status != OutcomeStatus.RELEASED:
            self._apply(
                self._state.model_copy(
                    update={
                        "status": OutcomeStatus.RELEASED,
                        "revision": max(notice.revision, self._state.revision),
                        "released_at": notice.released_at,
                        "release_method": notice.release_method,
                        "own_schedule": False,
                    }
                ),
                force=True,
            )

    async def _resume(self, resumed: Resumption) -> None:
        """Restarted by reconcile: the outcome as stored; its own schedule is re-armed."""
        command = resumption_input(
            resumed, subject_kind=self._start.kind.value, subject_id=self._start.outcome_id
        )
        loaded = await self._record({OUTCOME}, resume_outcome, command)
        self._element_id = loaded.element_id
        self._apply(loaded.snapshot)  # a `released` signal meanwhile is newer
        await self._follow_slas()

    async def _follow_slas(self) -> None:
        """Complete and pending starts its release SLA; the release stops every SLA it ends."""
        state = self._state
        if state.status == OutcomeStatus.PENDING_RELEASE and not self._sla_started:
            self._sla_started = True
            start = StartSlaInput(
                definition=f"{state.kind.value}_complete_to_release",
                subject=state.outcome_id,
                candidate_id=state.candidate_id,
            )
            await self._tell_slas(start_sla, start)
        if state.status == OutcomeStatus.RELEASED and not self._slas_stopped:
            self._slas_stopped = True
            ids = [sla_workflow_id(d, s) for d, s in self._slas_ended_by_release()]
            await self._tell_slas(stop_slas, StopSlasInput(workflow_ids=ids))

    async def _tell_slas(self, activity: Callable[[A], Awaitable[None]], arg: A) -> None:
        """Start or stop SLAs: a local activity (one workflow task, no activity task to wait
        for behind a backlog; decision 0091), a regular one in runs from before."""
        if not workflow.patched(SLA_CALLS_LOCAL):
            await run_recording(activity, arg)
            return
        await workflow.execute_local_activity(
            activity,
            arg,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary=in_words(activity),
        )

    def _slas_ended_by_release(self) -> list[tuple[str, str]]:
        state = self._state
        ended = [(f"{state.kind.value}_complete_to_release", state.outcome_id)]
        if state.kind == OutcomeKind.RESULT and self._element_id:
            ended.append(("element_scheduled_to_outcome_release", self._element_id))
        if state.kind == OutcomeKind.CERTIFICATION:
            ended.append(("candidate_time_in_epa", state.candidate_id))
        return ended

    def _released(self) -> bool:
        return self._state.status == OutcomeStatus.RELEASED

    def _schedule(self) -> datetime | None:
        """The instant of the outcome's own schedule while it is pending, else None."""
        state = self._state
        if state.status == OutcomeStatus.PENDING_RELEASE and state.own_schedule:
            return state.scheduled_release_at
        return None

    async def _watch_schedule(self) -> None:
        """Wait for the armed instant; a move or a release cancels the wait (and its timer)."""
        armed = self._schedule()
        assert armed is not None
        self._armed = armed
        try:
            await workflow.wait_condition(
                lambda: self._released() or self._schedule() != armed,
                timeout=max(armed - workflow.now(), MIN_WAIT),
                timeout_summary="scheduled release",
            )
            return
        except TimeoutError:
            pass
        if self._schedule() != armed:
            return
        # The activity re-checks the row: released, voided or moved meanwhile → nothing.
        await workflow.wait_condition(lambda: OUTCOME not in self._in_flight)
        try:
            method = ReleaseMethod.SCHEDULED
            await self._act(
                release_outcome, RecordReleaseInput, "system", method=method, scheduled_at=armed
            )
        except ApplicationError as error:  # a refusal: the row says no; the loop waits on
            workflow.logger.warning("scheduled release refused: %s", error)

    async def _change(
        self, activity: Callable[[A], Awaitable[OutcomeSnapshot]], arg: A
    ) -> OutcomeSnapshot:
        """Record one change (others are refused meanwhile), keep it, then follow the SLAs."""
        state = self._apply(await self._record({OUTCOME}, activity, arg))
        await self._follow_slas()
        return state

    async def _act(
        self,
        activity: Callable[[P], Awaitable[OutcomeSnapshot]],
        command: type[P],
        actor: str,
        **fields: Any,
    ) -> OutcomeSnapshot:
        """Record one change of this outcome by `actor`."""
        return await self._change(activity, self._command(command, actor=actor, **fields))

    def _names(self) -> dict[str, Any]:
        return {"kind": self._start.kind, "outcome_id": self._start.outcome_id}

    def _refuse_unless_allowed(self, action: str) -> None:
        self._refuse_if_busy(OUTCOME)
        self._guard(lambda: ensure_allowed(action, self._state.status))

    def _busy_refusal(self, busy: list[str]) -> Conflict:
        return Conflict(BUSY)

    @property
    def _state(self) -> OutcomeSnapshot:
        return self._snapshot

    def _publish(self) -> None:
        """Search attributes and details an operator sees in the Temporal UI."""
        state = self._state
        schedule = self._schedule()
        updates: list[SearchAttributeUpdate[Any]] = [
            keys.CASE_STATUS.value_set([state.status.value]),
            keys.RELEASE_AT.value_set(schedule) if schedule else keys.RELEASE_AT.value_unset(),
        ]
        pending = state.status == OutcomeStatus.PENDING_RELEASE
        self._console.show(
            outcome_next(state.status, state.scheduled_release_at if pending else None),
            updates,
            f"**{state.status.value}** · {state.kind.value} {state.outcome_id} · "
            f"candidate {state.candidate_id} · grade {state.grade}"
            + (f" · released {state.release_method}" if state.release_method else ""),
        )
