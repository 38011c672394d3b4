"""Induction workflow inputs the time-skipping tests and recordings share."""

from datetime import date

from temporalio.client import Client

from api.services.induction import start_operation
from domain.induction import InductionOutcome, ProgrammeType
from workflows.induction import InductionRegistrationWorkflow
from workflows.payloads.induction import (
    AbClaimInput,
    InductionOutcomeInput,
    InductionRecorded,
    SchoolReportInput,
)

PASSED, FAILED, RELEASED = (
    InductionOutcome.PASSED,
    InductionOutcome.FAILED,
    InductionOutcome.RELEASED,
)
# The update an AB's outcome goes to.
RECORD_OUTCOME = InductionRegistrationWorkflow.record_outcome


def school_report_input() -> SchoolReportInput:
    """school-1 says: ab-1 supports a school-led induction from 1 September 2025."""
    return SchoolReportInput(
        actor="sam",
        school_id="school-1",
        appropriate_body_id="ab-1",
        programme_type=ProgrammeType.SCHOOL_LED,
        start_date=date(2025, 9, 1),
    )


def claim_input(ab: str) -> AbClaimInput:
    """`ab` claims the teacher (provider-led, from 2 September 2025)."""
    return AbClaimInput(
        actor=f"{ab}-user",
        appropriate_body_id=ab,
        programme_type=ProgrammeType.PROVIDER_LED,
        started_on=date(2025, 9, 2),
    )


def outcome_input(
    ab: str, outcome: InductionOutcome, on: date = date(2026, 1, 15)
) -> InductionOutcomeInput:
    """`ab` records `outcome`, completed `on`."""
    return InductionOutcomeInput(
        actor=f"{ab}-user", appropriate_body_id=ab, outcome=outcome, completed_on=on
    )


async def report_by_school(
    client: Client, trn: str, task_queue: str, *, reminder_days: int | None = None
) -> InductionRecorded:
    """The school's report, starting the teacher's registration workflow."""
    return await client.execute_update_with_start_workflow(
        InductionRegistrationWorkflow.school_report,
        school_report_input(),
        start_workflow_operation=start_operation(
            trn, task_queue=task_queue, reminder_days=reminder_days
        ),
    )
