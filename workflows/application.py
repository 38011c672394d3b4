"""ApplicationReviewWorkflow: one application from submission to completion."""

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from domain.application import (
    TERMINAL_STATUSES,
    ApplicationAction,
    ApplicationStatus,
    ensure_allowed,
)
from domain.errors import Conflict, Refusal
from workflows.payloads.application import (
    RECORD_SUBMISSION,
    RECORD_WITHDRAWAL,
    ApplicationState,
    RecordSubmissionInput,
    RecordWithdrawalInput,
    StartApplicationReviewInput,
    SubmissionResult,
    SubmitApplicationInput,
    WithdrawalResult,
    WithdrawApplicationInput,
)
from workflows.refusal import as_failure, unwrap

with workflow.unsafe.imports_passed_through():
    from core import temporal as keys

R = TypeVar("R")

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=["Conflict", "Invalid", "NotFound"],
)


@workflow.defn
class ApplicationReviewWorkflow:
    """Review of one application (id `application-{id}`).

    Updates: `submit`, `withdraw`. Query: `state`.
    Activities: `record_submission`, `record_withdrawal`.
    """

    @workflow.init
    def __init__(self, start: StartApplicationReviewInput) -> None:
        self._state = ApplicationState(
            application_id=start.application_id, status=ApplicationStatus.DRAFT
        )
        # Set by a handler before its first await: a second change is refused
        # (409) meanwhile, so two transitions never interleave.
        self._busy_with: str | None = None

    @workflow.run
    async def run(self, start: StartApplicationReviewInput) -> ApplicationState:
        """Live until the application is completed or withdrawn."""
        await workflow.wait_condition(
            lambda: self._state.status in TERMINAL_STATUSES and workflow.all_handlers_finished()
        )
        return self._state

    @workflow.query
    def state(self) -> ApplicationState:
        """The application as the workflow sees it."""
        return self._state

    @workflow.update
    async def submit(self, command: SubmitApplicationInput) -> ApplicationState:
        """Record a submission; the assessment is created with the first one."""
        result = await self._record(
            "submit",
            RECORD_SUBMISSION,
            RecordSubmissionInput(
                application_id=self._state.application_id,
                actor=command.actor,
                submission=command.submission,
                at=workflow.now(),
            ),
            SubmissionResult,
        )
        self._state = self._state.model_copy(
            update={
                "status": result.status,
                "stage": result.stage,
                "submissions": result.submissions,
                "assessment_status": result.assessment_status,
            }
        )
        self._publish_state()
        return self._state

    @submit.validator
    def _validate_submit(self, command: SubmitApplicationInput) -> None:
        self._refuse_if_busy()
        if command.submission != self._state.submissions + 1:
            raise as_failure(
                Conflict(
                    f"submission {command.submission} is out of date; "
                    f"the application has {self._state.submissions}"
                )
            )
        self._refuse_unless_allowed(ApplicationAction.SUBMIT)

    @workflow.update
    async def withdraw(self, command: WithdrawApplicationInput) -> ApplicationState:
        """Withdraw the application; the workflow then completes."""
        result = await self._record(
            "withdraw",
            RECORD_WITHDRAWAL,
            RecordWithdrawalInput(
                application_id=self._state.application_id,
                actor=command.actor,
                reason=command.reason,
                at=workflow.now(),
            ),
            WithdrawalResult,
        )
        self._state = self._state.model_copy(update={"status": result.status})
        self._publish_state()
        return self._state

    @withdraw.validator
    def _validate_withdraw(self, command: WithdrawApplicationInput) -> None:
        self._refuse_if_busy()
        self._refuse_unless_allowed(ApplicationAction.WITHDRAW)

    async def _record(self, change: str, name: str, arg: object, result_type: type[R]) -> R:
        """Run one recording activity; no other change starts until it is done."""
        self._busy_with = change  # set before the first await: settles races
        try:
            result: R = await workflow.execute_activity(
                name,
                arg,
                result_type=result_type,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
            return result
        except ActivityError as error:
            raise unwrap(error) from None
        finally:
            self._busy_with = None

    def _refuse_if_busy(self) -> None:
        if self._busy_with is not None:
            raise as_failure(
                Conflict(f"another change ({self._busy_with}) to this application is in progress")
            )

    def _refuse_unless_allowed(self, action: ApplicationAction) -> None:
        try:
            ensure_allowed(action, self._state.status)
        except Refusal as refusal:
            raise as_failure(refusal) from None

    def _publish_state(self) -> None:
        """Search attributes and details an operator sees in the Temporal UI."""
        updates = [keys.CASE_STATUS.value_set(self._state.status.value)]
        if self._state.stage is not None:
            updates.append(keys.STAGE.value_set(self._state.stage))
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(
            f"**{self._state.status.value}** · stage `{self._state.stage or '-'}` · "
            f"assessment {self._state.assessment_status or '-'} · "
            f"submissions {self._state.submissions}"
        )
