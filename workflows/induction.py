"""InductionRegistrationWorkflow: one teacher's induction facts, reported by two parties."""

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from domain.console import induction_next
from domain.induction import (
    Holding,
    InductionOutcome,
    OutcomeClaim,
    ReportKind,
    case_statuses,
    check_claim,
    check_outcome,
    check_release,
    reminder_due_at,
)
from workflows.cancellation import AfterCancel, on_operator_cancel, operator_of_cancel
from workflows.case_workflow import CaseWorkflow
from workflows.descriptions import INDUCTION_HELP, update
from workflows.payloads.cancellation import RecordRefusedCancelInput, record_refused_cancel
from workflows.payloads.common import Payload
from workflows.payloads.induction import (
    AbClaimInput,
    AbReleaseInput,
    InductionCarry,
    InductionOutcomeInput,
    InductionRecorded,
    InductionSnapshot,
    MigratedReportInput,
    RecordAbClaimReminderInput,
    RecordInductionReportInput,
    SchoolReportInput,
    StartInductionInput,
    record_ab_claim_reminder,
    record_induction_report,
    resume_induction,
)
from workflows.payloads.resumption import Resumption
from workflows.refusal import run_recording
from workflows.resumption import resumption_input
from workflows.search_keys import keys

# Claims, releases and outcomes change who holds the teacher: one at a time.
CLAIM = "claim"
# Outcomes (decision 0096): the update, and a run that completes once the induction closes.
OUTCOMES = "induction-outcomes"


@workflow.defn
class InductionRegistrationWorkflow(CaseWorkflow[InductionSnapshot]):
    """One teacher's induction registration (id `induction-{trn}`); lives as long as the
    induction does, continuing as new when the history grows.

    Updates: `school_report`, `ab_claim`, `ab_release`, `migrated_report`, `record_outcome`.
    Query: `state`. Timer: the AB-claim reminder, `ab_claim_reminder_days` after the
    school's report (re-armed by a release or a RELEASED outcome).
    Ends: completes once the induction is closed (a PASSED or FAILED outcome); reports
    after that are recorded by the API against the closed induction, without a workflow.
    Cancel (Temporal UI or CLI): refused, and the run goes on. The registration is the
    teacher's record, which no operator withdraws (it ends when the induction closes); the
    refusal is an audit row with the operator, reason CANCELLED_BY_OPERATOR and why.
    Temporal delivers only a run's first cancel request.
    Activities: record_induction_report, record_ab_claim_reminder, record_refused_cancel,
    find_cancel_requester; resume_induction first when reconcile restarted it (`resumed`:
    the registration and its reminder as stored).
    """

    @workflow.init
    def __init__(self, start: StartInductionInput) -> None:
        carried = start.carried or InductionCarry(snapshot=InductionSnapshot(trn=start.trn))
        # Restarted by reconcile, no claim is judged on the empty state until it loads.
        super().__init__(carried.snapshot, busy={CLAIM} if start.resumed is not None else ())
        self._trn = start.trn
        self._reminder_days = start.ab_claim_reminder_days
        self._reminded_for = carried.reminded_for
        # Who holds the claim as settled here: set by a claim or release before its first
        # await, so a concurrent claim is refused before anything reaches the database.
        self._holder = carried.snapshot.claimed_by

    async def _refuse_operator_cancel(
        self, start: StartInductionInput
    ) -> InductionSnapshot | AfterCancel:
        """A cancel request: recorded as refused; the registration goes on."""
        actor, note = await operator_of_cancel()
        refusal = RecordRefusedCancelInput(
            subject_kind="induction",
            subject_id=self._trn,
            actor=actor,
            note=note,
            why="an induction registration is the teacher's record; it ends when the "
            "induction closes, never by a cancel",
            at=workflow.now(),
        )
        await run_recording(record_refused_cancel, refusal)
        since = self._state.unclaimed_since
        if since is not None and since == self._reminded_for and self._holder is None:
            await self._remind(since)  # the cancel may have cut it short; it is sent once
        return AfterCancel.CARRY_ON

    @workflow.run
    @on_operator_cancel(_refuse_operator_cancel)
    async def run(self, start: StartInductionInput) -> InductionSnapshot:
        """Remind the school when no AB claims in time; continue as new when suggested."""
        if start.resumed is not None:
            await self._resume(start.resumed)
        while not self._ending():
            if self._awaiting_claim_since() is not None:
                await self._watch_for_claim()
            else:
                await workflow.wait_condition(
                    lambda: self._awaiting_claim_since() is not None or self._ending()
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._state.closed_by is not None and workflow.patched(OUTCOMES):
            return self._state  # closed for good: nothing more to wait for
        workflow.continue_as_new(
            StartInductionInput(
                trn=self._trn,
                ab_claim_reminder_days=self._reminder_days,
                carried=InductionCarry(snapshot=self._state, reminded_for=self._reminded_for),
            )
        )

    @workflow.query(description=INDUCTION_HELP["state"])
    def state(self) -> InductionSnapshot:
        """The effective values, where they came from, and who holds the claim."""
        return self._state

    @update(INDUCTION_HELP["school_report"])
    async def school_report(self, command: SchoolReportInput) -> InductionRecorded:
        """Store a school's report; it is effective at once, provisionally."""
        return await self._report(set(), ReportKind.SCHOOL_REPORT, command.school_id, command)

    @update(INDUCTION_HELP["migrated_report"])
    async def migrated_report(self, command: MigratedReportInput) -> InductionRecorded:
        """Store data migrated from the older service (a source below both parties)."""
        return await self._report(set(), ReportKind.MIGRATED, "migration", command)

    @update(INDUCTION_HELP["ab_claim"])
    async def ab_claim(self, command: AbClaimInput) -> InductionRecorded:
        """An AB claims the teacher: its values confirm or override the school's."""
        self._validate_ab_claim(command)  # again here: settles a race before any await
        return await self._change_claim(command.appropriate_body_id, ReportKind.AB_CLAIM, command)

    @ab_claim.validator
    def _validate_ab_claim(self, command: AbClaimInput) -> None:
        self._refuse_if_busy(CLAIM)
        closed_by = self._state.closed_by
        self._guard(
            lambda: check_claim(self._holder, command.appropriate_body_id, self._trn, closed_by)
        )

    @update(INDUCTION_HELP["ab_release"])
    async def ab_release(self, command: AbReleaseInput) -> InductionRecorded:
        """The holding AB ends its claim; the school's values become effective again."""
        self._validate_ab_release(command)
        return await self._change_claim(None, ReportKind.AB_RELEASE, command)

    @ab_release.validator
    def _validate_ab_release(self, command: AbReleaseInput) -> None:
        self._refuse_if_busy(CLAIM)
        closed_by = self._state.closed_by
        self._guard(
            lambda: check_release(self._holder, command.appropriate_body_id, self._trn, closed_by)
        )

    @update(INDUCTION_HELP["record_outcome"])
    async def record_outcome(self, command: InductionOutcomeInput) -> InductionRecorded:
        """The holding AB records the outcome: PASSED/FAILED close the induction for good,
        RELEASED ends the AB's support and the school's values are effective again."""
        workflow.patched(OUTCOMES)
        self._validate_record_outcome(command)
        released = command.outcome == InductionOutcome.RELEASED
        holder = None if released else command.appropriate_body_id
        return await self._change_claim(holder, ReportKind.OUTCOME, command)

    @record_outcome.validator
    def _validate_record_outcome(self, command: InductionOutcomeInput) -> None:
        self._refuse_if_busy(CLAIM)
        state = self._state
        held = Holding(self._holder, state.closed_by, state.start_date)
        today = workflow.now().date()
        claim = OutcomeClaim(self._trn, command.appropriate_body_id, command.completed_on, today)
        self._guard(lambda: check_outcome(held, claim))

    async def _change_claim(
        self,
        holder: str | None,
        kind: ReportKind,
        command: AbClaimInput | AbReleaseInput | InductionOutcomeInput,
    ) -> InductionRecorded:
        """A claim or release: `holder` holds the teacher while it is recorded."""
        self._holder = holder
        try:
            return await self._report({CLAIM}, kind, command.appropriate_body_id, command)
        finally:
            self._holder = self._state.claimed_by

    async def _report(
        self, held: set[str], kind: ReportKind, reporter: str, report: Payload
    ) -> InductionRecorded:
        """Store one report as received (its id is fixed here, so a retry stores it once)."""
        command = self._command(
            RecordInductionReportInput,
            report_id=str(workflow.uuid4()),
            kind=kind,
            reporter=reporter,
            **report.model_dump(exclude={"school_id"}),
        )
        recorded = await self._record(held, record_induction_report, command)
        self._apply(recorded.snapshot)
        return recorded

    def _names(self) -> dict[str, Any]:
        return {"trn": self._trn}

    async def _resume(self, resumed: Resumption) -> None:
        """Restarted by reconcile: the registration as stored; the reminder re-armed from it."""
        command = resumption_input(resumed, subject_kind="induction", subject_id=self._trn)
        carry = await self._record({CLAIM}, resume_induction, command)
        self._reminded_for = carry.reminded_for
        self._apply(carry.snapshot)
        self._holder = self._state.claimed_by

    def _awaiting_claim_since(self) -> datetime | None:
        """Since when the school has waited for a claim, unless already reminded for it."""
        since = self._state.unclaimed_since
        if since is None or self._holder is not None or since == self._reminded_for:
            return None
        return since

    async def _watch_for_claim(self) -> None:
        """Wait for a claim until the reminder is due; remind the school once per wait."""
        since = self._awaiting_claim_since()
        assert since is not None
        deadline = reminder_due_at(since, self._reminder_days)
        if deadline > workflow.now():
            try:
                await workflow.wait_condition(
                    lambda: self._awaiting_claim_since() != since or self._ending(),
                    timeout=deadline - workflow.now(),
                    timeout_summary=f"AB claim reminder after {self._reminder_days} days",
                )
                return
            except TimeoutError:
                if self._awaiting_claim_since() != since:
                    return
        self._reminded_for = since
        await self._remind(since)

    async def _remind(self, since: datetime) -> None:
        """Remind the school that no AB has claimed the teacher since `since`."""
        days = self._reminder_days
        reminder = self._command(
            RecordAbClaimReminderInput, unclaimed_since=since, reminder_days=days
        )
        self._apply(await self._record((), record_ab_claim_reminder, reminder))

    def _continue_as_new_suggested(self) -> bool:
        return workflow.info().is_continue_as_new_suggested()

    def _ending(self) -> bool:
        """The run is done: the induction closed, or the history asks to continue as new."""
        return self._state.closed_by is not None or self._continue_as_new_suggested()

    @property
    def _state(self) -> InductionSnapshot:
        return self._snapshot

    def _publish(self) -> None:
        """Search attributes and details an operator sees in the Temporal UI."""
        state, since = self._state, self._state.unclaimed_since
        reminded = since is not None and since == self._reminded_for
        updates: list[SearchAttributeUpdate[Any]] = [
            keys.CASE_STATUS.value_set(
                case_statuses(
                    state.claimed_by, len(state.open_discrepancies), reminded, state.closed_by
                )
            )
        ]
        due = None if since is None else reminder_due_at(since, self._reminder_days)
        effective = state.effective
        self._console.show(
            induction_next(state.claimed_by, since, due, reminded=reminded),
            updates,
            f"**{_headline(state)}**"
            f" · teacher {self._trn} · AB `{effective.appropriate_body_id.value or '-'}`"
            f" ({effective.appropriate_body_id.source or '-'})"
            f" · programme `{effective.programme_type.value or '-'}`"
            f" · start {effective.start_date.value or '-'}"
            f" · reports {state.reports} · open discrepancies {len(state.open_discrepancies)}",
        )


def _headline(state: InductionSnapshot) -> str:
    """The registration in a few words, for the Temporal UI's current details."""
    if state.closed_by is not None:
        return f"closed: {state.closed_by.value} (recorded by {state.claimed_by})"
    return f"claimed by {state.claimed_by}" if state.claimed_by else "awaiting AB claim"
