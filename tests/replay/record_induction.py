"""History of InductionRegistrationWorkflow: the school's report, the reminder timer firing,
a claim and release, a second wait cut short (its timer cancelled) by another AB's claim,
and that AB's release (which arms a new wait: the workflow stays open, as in production)."""

from datetime import timedelta

from api.services.induction import workflow_id
from tests.replay.recording import history_json, recording
from tests.support.induction import (
    PASSED,
    RECORD_OUTCOME,
    RELEASED,
    claim_input,
    outcome_input,
    report_by_school,
)
from workflows.induction import InductionRegistrationWorkflow
from workflows.payloads.induction import AbReleaseInput

TRN = "7000001"
REMINDER_DAYS = 30


def _release(ab: str) -> AbReleaseInput:
    return AbReleaseInput(actor=f"{ab}-user", appropriate_body_id=ab)


async def record_induction_reminder_claim_release(database_url: str) -> str:
    """Report; 31 days (the reminder fires); ab-1 claims and releases; 10 days; ab-2 claims
    (the new reminder timer is cancelled) and releases."""
    async with recording(database_url) as rec:
        reported = await report_by_school(rec.client, TRN, rec.queue, reminder_days=REMINDER_DAYS)
        assert reported.snapshot.unclaimed_since is not None, reported
        handle = rec.client.get_workflow_handle_for(
            InductionRegistrationWorkflow.run, workflow_id(TRN)
        )
        await rec.env.sleep(timedelta(days=REMINDER_DAYS + 1))
        await handle.execute_update(InductionRegistrationWorkflow.ab_claim, claim_input("ab-1"))
        await handle.execute_update(InductionRegistrationWorkflow.ab_release, _release("ab-1"))
        await rec.env.sleep(timedelta(days=10))
        claimed = await handle.execute_update(
            InductionRegistrationWorkflow.ab_claim, claim_input("ab-2")
        )
        assert claimed.snapshot.claimed_by == "ab-2", claimed
        released = await handle.execute_update(
            InductionRegistrationWorkflow.ab_release, _release("ab-2")
        )
        assert released.snapshot.claimed_by is None, released
        return await history_json(handle)


async def record_induction_outcome_released_then_passed(database_url: str) -> str:
    """Patch induction-outcomes: ab-1 claims and records RELEASED (a new wait: the reminder
    fires 31 days on); ab-2 claims and records PASSED, and the run completes."""
    async with recording(database_url) as rec:
        await report_by_school(rec.client, TRN, rec.queue, reminder_days=REMINDER_DAYS)
        handle = rec.client.get_workflow_handle_for(
            InductionRegistrationWorkflow.run, workflow_id(TRN)
        )
        await handle.execute_update(InductionRegistrationWorkflow.ab_claim, claim_input("ab-1"))
        released = await handle.execute_update(
            RECORD_OUTCOME,
            outcome_input("ab-1", RELEASED),
        )
        assert released.snapshot.claimed_by is None, released
        await rec.env.sleep(timedelta(days=REMINDER_DAYS + 1))
        await handle.execute_update(InductionRegistrationWorkflow.ab_claim, claim_input("ab-2"))
        await handle.execute_update(RECORD_OUTCOME, outcome_input("ab-2", PASSED))
        final = await handle.result()
        assert final.status == "CLOSED", final
        return await history_json(handle)
