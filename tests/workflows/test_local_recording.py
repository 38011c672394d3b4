"""The application review records as local activities (patch recording-local-activities,
decision 0090), and a recording run again after a lost workflow task is a retry."""

from datetime import timedelta

from sqlalchemy import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from activities.review import ReviewActivities
from domain.application import ApplicationStatus
from domain.review import ReviewDecision, ReviewStatus
from tests.support.seed import T0
from tests.workflows.test_review_cycle_workflow import _submitted, client
from tests.workflows.test_review_deadlines_workflow import _review
from workflows.application import ApplicationReviewWorkflow
from workflows.payloads.review import (
    AssignInput,
    CaseSnapshot,
    RecordReviewSubmissionInput,
    SubmitReviewInput,
)
from workflows.refusal import LOCAL_RECORDING_PATCH

__all__ = ["client"]  # the fixture: a time-skipping client, a worker, a template, rev-1

Handle = WorkflowHandle[ApplicationReviewWorkflow, CaseSnapshot]


async def _completed_cycle(client: Client, db: Engine, task_queue: str) -> tuple[Handle, str]:
    """Submit, self-assign, start, approve everything, submit CONFORM: (handle, review id)."""
    _, handle = await _submitted(client, db, task_queue)
    assignment = (await handle.query(ApplicationReviewWorkflow.state)).assignments[0]
    await handle.execute_update(
        ApplicationReviewWorkflow.assign, AssignInput(assignment_id=assignment.id, actor="rev-1")
    )
    review_id = await _review(handle, db, assignment.id)  # started, everything approved
    await handle.execute_update(
        ApplicationReviewWorkflow.submit_review,
        SubmitReviewInput(review_id=review_id, actor="rev-1", decision=ReviewDecision.CONFORM),
    )
    return handle, review_id


async def test_the_review_cycle_records_without_a_single_activity_task(
    client: Client, db: Engine, task_queue: str
) -> None:
    handle, _ = await _completed_cycle(client, db, task_queue)

    result = await handle.result()
    events = (await handle.fetch_history()).events
    scheduled = [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    patches = [
        str(e.marker_recorded_event_attributes)
        for e in events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]

    assert result.status == ApplicationStatus.COMPLETED
    assert scheduled == []
    assert markers.count("core_local_activity") == 4  # submit, assign, start, submit review
    assert any(LOCAL_RECORDING_PATCH in patch for patch in patches)


async def test_a_review_submission_run_again_later_is_a_retry_not_a_refusal(
    client: Client, db: Engine, task_queue: str
) -> None:
    """A worker that dies mid local activity: the workflow task times out and the activity
    runs again in a new task, whose `at` is later. It must answer as the first run did."""
    handle, review_id = await _completed_cycle(client, db, task_queue)
    first = await handle.result()

    again = ReviewActivities(db).record_review_submission(
        RecordReviewSubmissionInput(
            application_id=first.application_id,
            review_id=review_id,
            actor="rev-1",
            decision=ReviewDecision.CONFORM,
            comment=None,
            at=T0 + timedelta(days=400),
        )
    )

    assert again.review_status == ReviewStatus.SUBMITTED
    assert again.snapshot.status == ApplicationStatus.COMPLETED
    assert again.snapshot.revision == first.revision  # nothing written twice
