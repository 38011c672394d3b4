"""ApplicationReviewWorkflow: one application from submission to completion."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from domain.application import (
    TERMINAL_STATUSES,
    ApplicationAction,
    ApplicationStatus,
    ensure_allowed,
)
from domain.console import application_next
from domain.errors import Conflict
from domain.review_deadline import Step, earliest_due, pending_steps
from domain.review_guards import (
    ensure_can_claim,
    ensure_can_start,
    ensure_can_submit,
    ensure_claims_open,
    newly_claimed,
)
from workflows.cancellation import AfterCancel, on_operator_cancel, operator_of_cancel
from workflows.case_workflow import CaseWorkflow
from workflows.descriptions import APPLICATION_HELP, update
from workflows.payloads.application import (
    RecordOperatorWithdrawalInput,
    RecordSubmissionInput,
    RecordWithdrawalInput,
    StartApplicationReviewInput,
    SubmitApplicationInput,
    WithdrawApplicationInput,
    record_loq_expiry,
    record_loq_reminder,
    record_operator_withdrawal,
    record_submission,
    record_withdrawal,
    resume_application,
)
from workflows.payloads.resumption import Resumption
from workflows.payloads.review import (
    AssignInput,
    CaseShape,
    CaseSnapshot,
    RecordAssignmentInput,
    RecordLoqExpiryInput,
    RecordLoqReminderInput,
    RecordReviewClockInput,
    RecordReviewStartInput,
    RecordReviewSubmissionInput,
    RecordUnassignmentInput,
    RefreshAssignmentsInput,
    ReviewStarted,
    ReviewSubmitted,
    StartReviewInput,
    SubmitReviewInput,
    SyncAssignmentsInput,
    UnassignInput,
    record_assignment,
    record_review_clock,
    record_review_start,
    record_review_submission,
    record_unassignment,
    sync_assignments,
)
from workflows.refusal import as_failure
from workflows.resumption import resumption_input
from workflows.search_keys import keys

CASE = "application"
# Reviewer deadlines (decision 0095): runs whose template times its reviewers keep a durable
# timer for the earliest step of their clocks; runs from before never had one.
REVIEW_DEADLINES = "review-deadlines"
# Runs from this code on publish only what changed (decision 0100): a change that leaves the
# search attributes and details as they were (a review started) upserts nothing.
CONSOLE_UNCHANGED = "console-skip-unchanged"


@workflow.defn
class ApplicationReviewWorkflow(CaseWorkflow[CaseSnapshot]):
    """Review of one application (id `application-{id}`).

    Updates: `submit` (also resubmission), `withdraw`, `assign`, `unassign`,
    `start_review`, `submit_review`, `refresh_assignments`. Query: `state`.
    Timers: the LOQ deadline and its reminders; while submitted, the earliest step of the
    reviewers' clocks (a reminder, the due date, the auto-unassign; patch review-deadlines).
    Cancel (Temporal UI or CLI): the operator's withdrawal. New updates are refused, those
    under way finish, then the application is WITHDRAWN for the operator (reason
    CANCELLED_BY_OPERATOR, assignments closed, LOQ clock ended) and the run ends Canceled;
    a case already completed or withdrawn meanwhile just completes.
    Activities: record_submission, record_withdrawal, record_operator_withdrawal,
    record_assignment, record_unassignment, record_review_start, record_review_submission,
    record_loq_reminder, record_loq_expiry, record_review_clock, sync_assignments,
    find_cancel_requester;
    resume_application first when reconcile restarted it (`resumed`: the case and its LOQ
    deadline as stored).
    """

    LOCAL_RECORDING = True  # its recording activities run as local activities (decision 0090)

    @workflow.init
    def __init__(self, start: StartApplicationReviewInput) -> None:
        # Busy keys: "application", "assignment:<id>", "review:<id>". Restarted by reconcile,
        # nothing is decided on the empty state until the case loads.
        super().__init__(
            CaseSnapshot(
                application_id=start.application_id, revision=-1, status=ApplicationStatus.DRAFT
            ),
            busy={CASE} if start.resumed is not None else (),
        )
        self._shape: CaseShape | None = None
        # Sections reserved by claims under way: set before a handler's first await.
        self._reserved: dict[str, set[str]] = {}
        self._watched_loq_round = 0
        # Reviewer clocks: the steps already taken, and whether this run times reviewers.
        self._clock_steps_done: set[Step] = set()
        self._times_reviewers: bool | None = None
        # What `_publish` last showed (patch console-skip-unchanged).
        self._shown: tuple[object, ...] | None = None

    async def _withdraw_for_operator(
        self, start: StartApplicationReviewInput
    ) -> CaseSnapshot | AfterCancel:
        """A cancel request: withdraw for the operator once the updates under way finish."""
        self._closed_to_changes = "an operator cancelled this case; it is being withdrawn"
        actor, note = await operator_of_cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._case.status in TERMINAL_STATUSES:
            return self._case
        withdrawal = self._command(RecordOperatorWithdrawalInput, actor=actor, note=note)
        self._apply(await self._record({CASE}, record_operator_withdrawal, withdrawal))
        if self._case.status == ApplicationStatus.WITHDRAWN:
            return AfterCancel.END_CANCELLED
        return self._case  # it completed meanwhile (an LOQ expired): nothing to withdraw

    @workflow.run
    @on_operator_cancel(_withdraw_for_operator)
    async def run(self, start: StartApplicationReviewInput) -> CaseSnapshot:
        """Live until completed or withdrawn; watch each LOQ's reminders and deadline."""
        if start.resumed is not None:
            await self._resume(start.resumed)
        while self._case.status not in TERMINAL_STATUSES:
            moved = self._moved_since(self._clocks_seen())
            step = self._next_clock_step()
            if step is None:
                await workflow.wait_condition(moved)
            elif not await self._moved_by(moved, step):
                await self._take_clock_step(step)
            if self._loq_unwatched():
                await self._watch_loq()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._case

    @update(APPLICATION_HELP["submit"])
    async def submit(self, command: SubmitApplicationInput) -> CaseSnapshot:
        """Record a submission or resubmission (the first creates the assessment)."""
        submission = self._command(
            RecordSubmissionInput, actor=command.actor, submission=command.submission
        )
        result = await self._record({CASE}, record_submission, submission)
        self._shape = result.shape
        return self._apply(result.snapshot)

    @submit.validator
    def _validate_submit(self, command: SubmitApplicationInput) -> None:
        self._refuse_if_busy(CASE, *self._in_flight)
        if command.submission != self._case.submissions + 1:
            raise as_failure(
                Conflict(
                    f"submission {command.submission} is out of date; "
                    f"the application has {self._case.submissions}"
                )
            )
        self._refuse_unless_allowed(ApplicationAction.SUBMIT)

    @update(APPLICATION_HELP["withdraw"])
    async def withdraw(self, command: WithdrawApplicationInput) -> CaseSnapshot:
        """Withdraw; open assignments and the LOQ clock end, then the workflow completes."""
        withdrawal = self._command(
            RecordWithdrawalInput, actor=command.actor, reason=command.reason
        )
        return self._apply(await self._record({CASE}, record_withdrawal, withdrawal))

    @withdraw.validator
    def _validate_withdraw(self, command: WithdrawApplicationInput) -> None:
        self._refuse_if_busy(CASE, *self._in_flight)
        self._refuse_unless_allowed(ApplicationAction.WITHDRAW)

    @workflow.query(description=APPLICATION_HELP["state"])
    def state(self) -> CaseSnapshot:
        """The case as the workflow sees it."""
        return self._case

    @update(APPLICATION_HELP["assign"])
    async def assign(self, command: AssignInput) -> CaseSnapshot:
        """Hold sections for an assignment's reviewer (assigner or self-assign)."""
        sections = self._claim(command)  # re-checked here: settles a race before any await
        key = f"assignment:{command.assignment_id}"
        level_key = self._level_key(command.assignment_id)
        self._reserved.setdefault(level_key, set()).update(sections)
        try:
            assignment = self._command(
                RecordAssignmentInput,
                assignment_id=command.assignment_id,
                sections=sections,
                actor=command.actor,
                by_assigner=command.by_assigner,
            )
            snapshot = await self._record({key}, record_assignment, assignment)
        finally:
            self._reserved[level_key].difference_update(sections)
        return self._apply(snapshot)

    @assign.validator
    def _validate_assign(self, command: AssignInput) -> None:
        self._refuse_if_busy(CASE, f"assignment:{command.assignment_id}")
        self._claim(command)

    @update(APPLICATION_HELP["unassign"])
    async def unassign(self, command: UnassignInput) -> CaseSnapshot:
        """Release an assignment's sections; its review becomes DISCONTINUED."""
        unassignment = self._command(
            RecordUnassignmentInput, assignment_id=command.assignment_id, actor=command.actor
        )
        key = f"assignment:{command.assignment_id}"
        return self._apply(await self._record({key}, record_unassignment, unassignment))

    @unassign.validator
    def _validate_unassign(self, command: UnassignInput) -> None:
        self._refuse_if_busy(CASE, f"assignment:{command.assignment_id}")
        self._guard(lambda: self._case.assignment(command.assignment_id))

    @update(APPLICATION_HELP["start_review"])
    async def start_review(self, command: StartReviewInput) -> ReviewStarted:
        """Start the assignment's review, or restart it (it keeps its id)."""
        assignment = self._case.assignment(command.assignment_id)
        review_id = assignment.review_id or str(workflow.uuid4())
        start = self._command(
            RecordReviewStartInput,
            assignment_id=command.assignment_id,
            review_id=review_id,
            actor=command.actor,
        )
        started = await self._record(
            {f"assignment:{command.assignment_id}"}, record_review_start, start
        )
        self._apply(started.snapshot)
        return started

    @start_review.validator
    def _validate_start_review(self, command: StartReviewInput) -> None:
        self._refuse_if_busy(CASE, f"assignment:{command.assignment_id}")
        self._guard(lambda: ensure_can_start(self._case.seat(command.assignment_id), command.actor))

    @update(APPLICATION_HELP["submit_review"])
    async def submit_review(self, command: SubmitReviewInput) -> ReviewSubmitted:
        """Submit a review; its decision moves the case (next level, stage, LOQ, completion)."""
        submission = self._command(
            RecordReviewSubmissionInput,
            review_id=command.review_id,
            actor=command.actor,
            decision=command.decision,
            comment=command.comment,
        )
        keys_ = {CASE, f"review:{command.review_id}"}
        submitted = await self._record(keys_, record_review_submission, submission)
        self._apply(submitted.snapshot)
        return submitted

    @submit_review.validator
    def _validate_submit_review(self, command: SubmitReviewInput) -> None:
        self._refuse_if_busy(CASE, f"review:{command.review_id}", *self._in_flight)
        self._guard(
            lambda: ensure_can_submit(self._case.review_seat(command.review_id), command.actor)
        )

    @update(APPLICATION_HELP["refresh_assignments"])
    async def refresh_assignments(self, command: RefreshAssignmentsInput) -> CaseSnapshot:
        """Review grants changed: untaken rows of the current level follow them."""
        refresh = self._command(SyncAssignmentsInput, actor=command.actor)
        return self._apply(await self._record({CASE}, sync_assignments, refresh))

    @refresh_assignments.validator
    def _validate_refresh(self, command: RefreshAssignmentsInput) -> None:
        self._refuse_if_busy(CASE)
        if self._case.status in TERMINAL_STATUSES:
            raise as_failure(Conflict(f"the application is {self._case.status.value}"))

    async def _resume(self, resumed: Resumption) -> None:
        """Restarted by reconcile: the case as stored; an LOQ deadline is re-armed from it."""
        command = resumption_input(resumed, subject_kind=CASE, subject_id=self._case.application_id)
        loaded = await self._record({CASE}, resume_application, command)
        self._shape = loaded.shape
        self._apply(loaded.snapshot)

    def _clocks_seen(self) -> tuple[object, ...]:
        """What the reviewer clocks' timer depends on: the status and each running clock."""
        return (
            self._case.status,
            tuple((a.id, a.due_at, a.overdue_at) for a in self._case.assignments if a.due_at),
        )

    def _moved_since(self, clocks: tuple[object, ...]) -> Callable[[], bool]:
        """True once the case ends, an LOQ needs watching, or the reviewer clocks changed."""
        return lambda: (
            self._case.status in TERMINAL_STATUSES
            or self._loq_unwatched()
            or self._clocks_seen() != clocks
        )

    def _next_clock_step(self) -> Step | None:
        """The earliest step of the running reviewer clocks (none unless submitted)."""
        shape = self._shape
        if shape is None or self._case.status != ApplicationStatus.SUBMITTED:
            return None
        running = self._case.running_clocks(shape)
        if not running:
            return None
        if self._times_reviewers is None:
            self._times_reviewers = workflow.patched(REVIEW_DEADLINES)
        if not self._times_reviewers:
            return None
        pending = pending_steps(running, self._clock_steps_done, workflow.now())
        return pending[0] if pending else None

    async def _moved_by(self, moved: Callable[[], bool], step: Step) -> bool:
        """Wait until the step's moment; True as soon as the case moved first."""
        if step.at > workflow.now():
            return await self._holds_by(moved, step.at, step.summary)
        return moved()

    async def _take_clock_step(self, step: Step) -> None:
        """Remind, mark overdue, or give the sections back (the activity re-checks)."""
        self._clock_steps_done.add(step)
        command = self._command(
            RecordReviewClockInput,
            assignment_id=step.assignment_id,
            due_at=step.due_at,
            kind=step.kind,
            before=step.before,
        )
        key = f"assignment:{step.assignment_id}"
        self._apply(await self._record({key}, record_review_clock, command, step.summary))

    def _loq_unwatched(self) -> bool:
        return (
            self._case.status == ApplicationStatus.CHANGES_REQUIRED
            and self._case.loq_round > self._watched_loq_round
        )

    async def _watch_loq(self) -> None:
        """Remind before the deadline; on the deadline, complete REJECTED (LOQ_EXPIRED)."""
        loq_round, deadline = self._case.loq_round, self._case.loq_deadline_at
        self._watched_loq_round = loq_round
        assert deadline is not None
        assert self._shape is not None
        for before in self._shape.loq_reminder_spans:
            moment = deadline - before
            days = before.days
            when = (
                f"LOQ reminder {days} days before"
                if before == timedelta(days=days)
                else f"LOQ reminder {before} before"
            )
            if moment > workflow.now() and not await self._loq_answered_by(moment, loq_round, when):
                reminder = self._command(
                    RecordLoqReminderInput, loq_round=loq_round, deadline_at=deadline
                )
                self._apply(await self._record((), record_loq_reminder, reminder, when))
            elif self._case.loq_round != loq_round or (
                self._case.status != ApplicationStatus.CHANGES_REQUIRED
            ):
                return
        if not await self._loq_answered_by(deadline, loq_round, "LOQ deadline"):
            expiry = self._command(RecordLoqExpiryInput, loq_round=loq_round)
            self._apply(await self._record({CASE}, record_loq_expiry, expiry, "LOQ deadline"))

    async def _loq_answered_by(self, moment: datetime, loq_round: int, summary: str) -> bool:
        """Wait until `moment`; True as soon as the LOQ round is answered or the case ends."""

        def answered() -> bool:
            return (
                self._case.status != ApplicationStatus.CHANGES_REQUIRED
                or self._case.loq_round != loq_round
            )

        return await self._holds_by(answered, moment, summary)

    @staticmethod
    async def _holds_by(condition: Callable[[], bool], moment: datetime, summary: str) -> bool:
        """A timer to `moment` (named `summary`); True as soon as `condition` holds."""
        try:
            await workflow.wait_condition(
                condition, timeout=moment - workflow.now(), timeout_summary=summary
            )
        except TimeoutError:
            return condition()
        return True

    def _claim(self, command: AssignInput) -> list[str]:
        shape = self._shape
        if shape is None:
            raise as_failure(Conflict("the application has not been submitted"))
        return self._guard(lambda: self._check_claim(shape, command))

    def _check_claim(self, shape: CaseShape, command: AssignInput) -> list[str]:
        """The sections this claim adds, judged against the snapshot and claims under way."""
        ensure_claims_open(self._case.status)
        assignment = self._case.assignment(command.assignment_id)
        seat = self._case.seat(command.assignment_id)
        ensure_can_claim(seat, command.actor, by_assigner=command.by_assigner)
        level_key = f"{assignment.stage}:{assignment.level}"
        held = self._case.held_by_others(assignment) | self._reserved.get(level_key, set())
        held -= set(assignment.assigned_sections)
        wanted = shape.sections_to_claim(assignment, command.sections, held)
        return newly_claimed(wanted, assignment.assigned_sections)

    def _level_key(self, assignment_id: str) -> str:
        assignment = self._case.assignment(assignment_id)
        return f"{assignment.stage}:{assignment.level}"

    def _names(self) -> dict[str, Any]:
        return {"application_id": self._case.application_id}

    def _refuse_unless_allowed(self, action: ApplicationAction) -> None:
        self._guard(lambda: ensure_allowed(action, self._case.status))

    @property
    def _case(self) -> CaseSnapshot:
        return self._snapshot

    def _publish(self) -> None:
        """Search attributes and details an operator sees in the Temporal UI."""
        case = self._case
        statuses = [case.status.value]
        if case.assessment_status is not None:
            statuses.append(case.assessment_status.value)
        updates: list[SearchAttributeUpdate[Any]] = [
            keys.CASE_STATUS.value_set(statuses),
            keys.REVIEW_LEVEL.value_set(case.level),
        ]
        if case.stage is not None:
            updates.append(keys.STAGE.value_set(case.stage))
        held = [assignment.status for assignment in case.assignments]
        clocks = [(a.due_at, a.overdue_at is not None) for a in case.assignments if a.due_at]
        step = application_next(case.status, held, case.loq_deadline_at, earliest_due(clocks))
        details = (
            f"**{case.status.value}** · stage `{case.stage or '-'}` level {case.level} · "
            f"assessment {case.assessment_status or '-'} · submissions {case.submissions} · "
            f"open assignments {len(case.assignments)}"
        )
        shown = (step, updates, details)
        if shown == self._shown and workflow.patched(CONSOLE_UNCHANGED):
            return
        self._shown = shown
        self._console.show(step, updates, details)
