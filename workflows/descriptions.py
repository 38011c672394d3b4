"""What the Temporal UI says about each update, signal and query (its meaning and input).

The UI shows these in its Update, Signal and Query dialogs; docs/operations.md explains
when an operator sends which.
"""

from collections.abc import Awaitable, Callable
from typing import ParamSpec, cast

from temporalio import workflow
from temporalio.workflow import UpdateMethodMultiParam

from workflows.typevars import R

P = ParamSpec("P")


def update(
    description: str,
) -> Callable[[Callable[P, Awaitable[R]]], UpdateMethodMultiParam[P, R]]:
    """`@workflow.update(description=...)`, typed as the bare decorator is: the SDK's keyword
    form types an async handler's result as its coroutine, so callers would see that."""
    return cast(
        Callable[[Callable[P, Awaitable[R]]], UpdateMethodMultiParam[P, R]],
        workflow.update(description=description),
    )


APPLICATION_HELP = {
    "state": (
        "The case as the workflow sees it: status, stage, level, LOQ, open assignments. No input."
    ),
    "submit": (
        'Submit or resubmit (the API does this). Input: {"actor": "<sub>", "submission": '
        "<submissions so far + 1>}"
    ),
    "withdraw": (
        'Withdraw the application; assignments and the LOQ clock end. Input: {"actor": '
        '"<sub>", "reason": "<text or null>"}'
    ),
    "assign": (
        'Hold sections of an open assignment for its reviewer. Input: {"assignment_id": '
        '"<id>", "actor": "<sub>", "sections": ["<code>"] or null (all allowed), '
        '"by_assigner": true}'
    ),
    "unassign": (
        'Release an assignment; its review becomes DISCONTINUED. Input: {"assignment_id": '
        '"<id>", "actor": "<sub>"}'
    ),
    "start_review": (
        "Start (or restart) the review of an assignment its reviewer holds. Input: "
        '{"assignment_id": "<id>", "actor": "<reviewer sub>"}'
    ),
    "submit_review": (
        'Submit a review; its decision moves the case. Input: {"review_id": "<id>", "actor": '
        '"<reviewer sub>", "decision": '
        '"CONFORM|NON_CONFORM|LIST_OF_QUESTIONS|CHANGES_REQUESTED" or null, "comment": "<text'
        ' or null>"}'
    ),
    "refresh_assignments": (
        "Review grants changed: the current level's untaken assignments follow them (a case "
        'left with none gets them). Input: {"actor": "<operator sub>"}'
    ),
}

OUTCOME_HELP = {
    "state": "The outcome as the workflow sees it: status, grade, schedule, release. No input.",
    "submit": (
        'Record the submission (the API does this, with the start). Input: {"actor": "<sub>",'
        ' "candidate_id": "<id>", "element_id": "<id or null>", "grade": '
        '"PASS|MERIT|DISTINCTION|FAIL|VOID", "sampled_for_qa": false}'
    ),
    "qa_signoff": (
        "QA passes (released or pending release) or fails (back for amendment). Input: "
        '{"actor": "<sub>", "passed": true, "release_with_qa": false}'
    ),
    "amend": (
        'The assessor\'s corrected grade after a failed QA. Input: {"actor": "<sub>", "grade":'
        ' "PASS|MERIT|DISTINCTION|FAIL|VOID"}'
    ),
    "release_now": (
        'Release a pending outcome now (MANUAL); its own schedule stops. Input: {"actor": "<sub>"}'
    ),
    "schedule_release": (
        'Schedule or move the release of a pending outcome. Input: {"actor": "<sub>", '
        '"release_at": "<a future instant, e.g. 2026-12-24T09:00:00Z>"}'
    ),
    "released": (
        "A batch released the outcome in the database; the workflow finishes. Sent by the "
        'batch only. Input: {"revision": <int>, "released_at": "<instant>", "release_method":'
        ' "MANUAL|SCHEDULED"}'
    ),
}

INDUCTION_HELP = {
    "state": (
        "The effective values, where each came from, who holds the claim, open discrepancies."
        " No input."
    ),
    "school_report": (
        'Store a school\'s report (effective at once, provisionally). Input: {"actor": '
        '"<sub>", "school_id": "<id>", "appropriate_body_id": "<id>", "programme_type": '
        '"school_led|provider_led", "start_date": "YYYY-MM-DD"}'
    ),
    "migrated_report": (
        'Store data migrated from the older service. Input: {"actor": "<sub>", '
        '"appropriate_body_id": "<id or null>", "programme_type": "<school_led|provider_led '
        'or null>", "start_date": "<YYYY-MM-DD or null>"}'
    ),
    "ab_claim": (
        'An AB claims the teacher (or amends its own claim). Input: {"actor": "<sub>", '
        '"appropriate_body_id": "<id>", "programme_type": "school_led|provider_led", '
        '"started_on": "YYYY-MM-DD"}'
    ),
    "ab_release": (
        'The AB holding the claim ends it. Input: {"actor": "<sub>", "appropriate_body_id": '
        '"<the holder\'s id>"}'
    ),
    "record_outcome": (
        "The holding AB records the outcome: PASSED or FAILED closes the induction (the "
        'workflow completes), RELEASED lets another AB claim. Input: {"actor": "<sub>", '
        '"appropriate_body_id": "<the holder\'s id>", "outcome": "PASSED|FAILED|RELEASED", '
        '"completed_on": "YYYY-MM-DD"}'
    ),
}

SLA_HELP = {
    "candidate_changed": (
        "The candidate's status changed: pause or resume as the database now says (safe to "
        "repeat). No input."
    ),
    "pause": "Pause the clock (the candidate became inactive). No input.",
    "resume": "Resume the clock (the candidate is active again). No input.",
    "stop": (
        "Stop the clock: MET, or BREACHED if the goal passed (e.g. the outcome was released)."
        " No input."
    ),
    "state": "The instance with its log, warnings and breach. No input.",
}

CHECKLIST_SYNC_HELP = {
    "progress": "Counts so far: found, synced, unchanged, skipped, failed, pages, cursor.",
}

RELEASE_BATCH_HELP = {
    "progress": (
        "The batch's counts as of its last activity: released, skipped, pending, scheduled. "
        "No input."
    ),
}
