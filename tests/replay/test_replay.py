"""Saved histories replay against today's workflow code (determinism and compatibility).

Every file in histories/ is replayed with the one workflow its name's prefix maps to (a
file no prefix maps fails), and must contain the event types listed for it in EXERCISES,
so a re-recording that no longer reaches a timer, signal or update is noticed.
"""

from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker import SANDBOX, WORKFLOWS
from workflows.application import ApplicationReviewWorkflow
from workflows.checklist_sync import ChecklistSyncWorkflow
from workflows.induction import InductionRegistrationWorkflow
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_batch import OutcomeReleaseBatchWorkflow
from workflows.sla import SlaWorkflow
from workflows.webhook import WebhookDeliveryWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
TEXTS = {path: path.read_text() for path in HISTORIES}

# A history file's name starts with exactly one of these prefixes.
WORKFLOW_BY_PREFIX: dict[str, type] = {
    "application_": ApplicationReviewWorkflow,
    "outcome_release_": OutcomeReleaseWorkflow,
    "outcome_batch_": OutcomeReleaseBatchWorkflow,
    "sla_": SlaWorkflow,
    "induction_": InductionRegistrationWorkflow,
    "checklist_sync_": ChecklistSyncWorkflow,
    "webhook_": WebhookDeliveryWorkflow,
}

E = EventType
ACTIVITY = E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
COMPLETED = E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
SIGNALED = E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
UPDATE_ACCEPTED = E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
UPDATE_COMPLETED = E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
UPSERT = E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
TIMER_STARTED = E.EVENT_TYPE_TIMER_STARTED
TIMER_FIRED = E.EVENT_TYPE_TIMER_FIRED
TIMER_CANCELED = E.EVENT_TYPE_TIMER_CANCELED
CANCEL_REQUESTED = E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
CONTINUED = E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
CANCELED = E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED
MARKER = E.EVENT_TYPE_MARKER_RECORDED  # a workflow.patched() marker
UPDATES = {UPDATE_ACCEPTED, UPDATE_COMPLETED}
TIMERS = {TIMER_STARTED, TIMER_FIRED, TIMER_CANCELED}

# What each history exists to exercise: event types it must contain (file stem → types).
EXERCISES: dict[str, set[EventType.ValueType]] = {
    "application_submit_withdraw": {*UPDATES, ACTIVITY, UPSERT, COMPLETED},
    "application_review_cycle_loq": {*UPDATES, *TIMERS, ACTIVITY, COMPLETED},
    # Patch recording-local-activities: the same cycle, each recording a local-activity
    # marker (no activity task), so the old regular-activity history above must still replay.
    "application_review_cycle_local": {*UPDATES, *TIMERS, MARKER, COMPLETED},
    # Patch console-skip-unchanged: a review started upserts nothing (fewer upserts).
    "application_review_cycle_console_unchanged": {*UPDATES, *TIMERS, MARKER, UPSERT, COMPLETED},
    # An operator's cancel (patch operator-cancel): who asked, the withdrawal, Canceled.
    "application_operator_cancel": {*UPDATES, CANCEL_REQUESTED, MARKER, ACTIVITY, CANCELED},
    # Restarted by reconcile: resume_application, then the stored deadline's timers fire.
    "application_resumed_loq": {TIMER_STARTED, TIMER_FIRED, ACTIVITY, UPSERT, COMPLETED},
    # QA sign-off, a schedule moved (its timer cancelled), the new timer fires and releases.
    "outcome_release_qa_rescheduled": {*UPDATES, *TIMERS, ACTIVITY, UPSERT, COMPLETED},
    # Pending until a batch releases it; the batch's `released` signal ends it.
    "outcome_release_by_batch": {*UPDATES, SIGNALED, ACTIVITY, COMPLETED},
    # Patch sla-calls-local: its SLA started and stopped by local activities (markers).
    "outcome_release_by_batch_local_slas": {*UPDATES, SIGNALED, MARKER, ACTIVITY, COMPLETED},
    # Scheduled: a timer to the instant, then chunk, list, notify and close activities.
    "outcome_batch_scheduled": {TIMER_STARTED, TIMER_FIRED, ACTIVITY, UPSERT, COMPLETED},
    # Pause (timer cancelled), resume (re-armed), a warning fires, stop: MET.
    "sla_pause_resume_warning_met": {SIGNALED, *TIMERS, ACTIVITY, UPSERT, COMPLETED},
    # Patch sla-append-local: pause, resume and stop each a local activity (a marker).
    "sla_pause_resume_warning_met_local": {SIGNALED, *TIMERS, MARKER, ACTIVITY, COMPLETED},
    # candidate_changed: the catch-up activity pauses, then resumes; a warning; stop: MET.
    "sla_candidate_catch_up": {SIGNALED, *TIMERS, ACTIVITY, UPSERT, COMPLETED},
    "sla_calendar_breach": {MARKER, SIGNALED, *TIMERS, ACTIVITY, UPSERT, COMPLETED},
    # The reminder fires; later a claim cancels the next one. Still open (no completion).
    "induction_reminder_claim_release": {*UPDATES, *TIMERS, ACTIVITY, UPSERT},
    # Patch induction-outcomes: RELEASED re-arms the reminder (it fires); PASSED completes.
    "induction_outcome_released_then_passed": {
        *UPDATES,
        MARKER,
        TIMER_STARTED,
        TIMER_FIRED,
        ACTIVITY,
        UPSERT,
        COMPLETED,
    },
    "checklist_sync_two_pages": {ACTIVITY, UPSERT, COMPLETED},
    # Operator cancels: an SLA stopped CANCELLED; an outcome whose own schedule is dropped
    # (its timer cancelled) goes on and is released now; a batch cancelled on its timer.
    "sla_operator_cancel": {*TIMERS, CANCEL_REQUESTED, MARKER, ACTIVITY, CANCELED},
    "outcome_release_operator_cancel": {
        *UPDATES,
        TIMER_STARTED,
        TIMER_CANCELED,
        CANCEL_REQUESTED,
        MARKER,
        ACTIVITY,
        COMPLETED,
    },
    # Patch console-first-task: the first task upserts the search attributes (a marker,
    # then an upsert before the first activity), and again once the SLA is opened.
    "sla_console_first_task": {MARKER, UPSERT, SIGNALED, *TIMERS, ACTIVITY, COMPLETED},
    "outcome_batch_console_first_task": {MARKER, UPSERT, TIMER_STARTED, TIMER_FIRED, COMPLETED},
    # Patch review-deadlines: a reviewer's clock reminds, marks overdue, gives sections back.
    "application_review_deadlines_fire": {*UPDATES, MARKER, TIMER_STARTED, TIMER_FIRED, ACTIVITY},
    # Unassigned (its timer cancelled), reassigned on a fresh date, submitted in time.
    "application_review_deadlines_ended": {*UPDATES, MARKER, *TIMERS, ACTIVITY, COMPLETED},
    "outcome_batch_operator_cancel": {
        TIMER_STARTED,
        TIMER_CANCELED,
        CANCEL_REQUESTED,
        MARKER,
        ACTIVITY,
        CANCELED,
    },
    # A 503 and its retry timer, pause, resume, replay (updates), stop: completed.
    "webhook_retry_pause_replay": {
        *UPDATES,
        TIMER_STARTED,
        TIMER_FIRED,
        ACTIVITY,
        UPSERT,
        COMPLETED,
    },
    # Deliveries and idle polls past the run's history limit: continued as new.
    "webhook_continue_as_new": {TIMER_STARTED, TIMER_FIRED, ACTIVITY, UPSERT, CONTINUED},
    # Patch webhook-stop-before-continue-as-new: a stop at the limit ends the workflow.
    "webhook_stop_before_continue_as_new": {*UPDATES, MARKER, ACTIVITY, COMPLETED},
}


def workflow_of(stem: str) -> type:
    """The workflow class a history file belongs to, by its name's prefix."""
    found = [cls for prefix, cls in WORKFLOW_BY_PREFIX.items() if stem.startswith(prefix)]
    assert len(found) == 1, (
        f"history {stem}.json must start with exactly one of {sorted(WORKFLOW_BY_PREFIX)}"
    )
    return found[0]


def _history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, TEXTS[path])


def test_there_are_histories_to_replay() -> None:
    assert HISTORIES, "record some with `python -m tests.replay.recorder`"


def test_every_workflow_the_worker_runs_has_a_history() -> None:
    covered = {workflow_of(path.stem) for path in HISTORIES}

    assert [w.__name__ for w in WORKFLOWS if w not in covered] == []


def test_every_history_says_what_it_exercises() -> None:
    assert {path.stem for path in HISTORIES} == set(EXERCISES)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    workflow = workflow_of(path.stem)
    history = _history(path)
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.workflow_type.name == workflow.__name__
    replayer = Replayer(
        workflows=[workflow], workflow_runner=SANDBOX, data_converter=pydantic_data_converter
    )

    await replayer.replay_workflow(history)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
def test_history_contains_what_it_exercises(path: Path) -> None:
    assert path.stem in EXERCISES, f"say in EXERCISES what {path.name} exercises"
    present = {event.event_type for event in _history(path).events}

    missing = EXERCISES[path.stem] - present

    assert not missing, f"{path.name} lacks {sorted(EventType.Name(t) for t in missing)}"
