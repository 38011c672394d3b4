"""Record workflow histories for the replay tests: `python -m tests.replay.recorder [NAME ...]`.

With no NAME every history below is recorded; name some (file stems, e.g.
`sla_pause_resume_warning_met`) to record only those. Each is recorded against a real
PostgreSQL (embedded, a fresh database per history) and the time-skipping server.

Run it when a workflow changes shape on purpose (behind `workflow.patched`), and commit
the new file beside the old ones under a new name: old histories must keep replaying, so
do not overwrite one that is committed. A new history's name must start with a prefix
that `test_replay.py` maps to its workflow, and list the event types it must contain.
"""

import asyncio
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from core.pg import start_embedded, stop_embedded
from tests.replay.record_application import (
    record_application_operator_cancel,
    record_application_resumed_loq,
    record_application_submit_withdraw,
    record_review_cycle_with_loq,
)
from tests.replay.record_cancel import (
    record_outcome_batch_operator_cancel,
    record_outcome_release_operator_cancel,
    record_sla_operator_cancel,
)
from tests.replay.record_checklist_sync import record_checklist_sync_two_pages
from tests.replay.record_induction import (
    record_induction_outcome_released_then_passed,
    record_induction_reminder_claim_release,
)
from tests.replay.record_outcome import (
    record_outcome_batch_scheduled,
    record_outcome_release_by_batch,
    record_outcome_release_qa_rescheduled,
)
from tests.replay.record_review_deadlines import (
    record_review_deadlines_ended,
    record_review_deadlines_fire,
)
from tests.replay.record_sla import (
    record_sla_calendar_breach,
    record_sla_candidate_catch_up,
    record_sla_pause_resume_warning_met,
)
from tests.replay.record_webhook import (
    record_webhook_continue_as_new,
    record_webhook_retry_pause_replay,
    record_webhook_stop_before_continue_as_new,
)
from tests.support.infra import forget_database, fresh_database

HISTORIES = Path(__file__).parent / "histories"

# File stem → the function that records it (given a migrated database's URL).
RECORDINGS: dict[str, Callable[[str], Coroutine[Any, Any, str]]] = {
    "application_submit_withdraw": record_application_submit_withdraw,
    "application_operator_cancel": record_application_operator_cancel,
    "application_review_cycle_loq": record_review_cycle_with_loq,
    "application_resumed_loq": record_application_resumed_loq,
    "outcome_release_qa_rescheduled": record_outcome_release_qa_rescheduled,
    "outcome_release_by_batch": record_outcome_release_by_batch,
    "outcome_release_by_batch_local_slas": record_outcome_release_by_batch,
    "outcome_batch_scheduled": record_outcome_batch_scheduled,
    "sla_pause_resume_warning_met": record_sla_pause_resume_warning_met,
    # Patch sla-append-local: the same, its pause, resume and stop appended locally.
    "sla_pause_resume_warning_met_local": record_sla_pause_resume_warning_met,
    "sla_candidate_catch_up": record_sla_candidate_catch_up,
    "sla_calendar_breach": record_sla_calendar_breach,
    "induction_reminder_claim_release": record_induction_reminder_claim_release,
    # Patch induction-outcomes: outcomes, and a run that completes once closed (0096).
    "induction_outcome_released_then_passed": record_induction_outcome_released_then_passed,
    "checklist_sync_two_pages": record_checklist_sync_two_pages,
    "sla_operator_cancel": record_sla_operator_cancel,
    "outcome_release_operator_cancel": record_outcome_release_operator_cancel,
    "outcome_batch_operator_cancel": record_outcome_batch_operator_cancel,
    # Patch console-first-task: search attributes from the first task (decision 0087).
    "sla_console_first_task": record_sla_pause_resume_warning_met,
    "outcome_batch_console_first_task": record_outcome_batch_scheduled,
    # Patch review-deadlines: the reviewer clocks' timers (decision 0095).
    "application_review_deadlines_fire": record_review_deadlines_fire,
    "application_review_deadlines_ended": record_review_deadlines_ended,
    "webhook_retry_pause_replay": record_webhook_retry_pause_replay,
    "webhook_continue_as_new": record_webhook_continue_as_new,
    # Patch webhook-stop-before-continue-as-new: a stop at a run's history limit ends it.
    "webhook_stop_before_continue_as_new": record_webhook_stop_before_continue_as_new,
    # Patch recording-local-activities: the cycle's recordings as local activities (0090).
    "application_review_cycle_local": record_review_cycle_with_loq,
    # Patch console-skip-unchanged: an unchanged case publishes nothing (decision 0100).
    "application_review_cycle_console_unchanged": record_review_cycle_with_loq,
}


def main(names: list[str]) -> None:
    """Record the named histories (all when none is named) into tests/replay/histories/."""
    unknown = sorted(set(names) - RECORDINGS.keys())
    if unknown:
        raise SystemExit(f"unknown histories {unknown}; known: {sorted(RECORDINGS)}")
    pgdata = Path(tempfile.mkdtemp(prefix="casework-record-")) / "pg"
    admin_url = start_embedded(pgdata)
    try:
        for stem in names or list(RECORDINGS):
            name, url = fresh_database(admin_url)
            try:
                text = asyncio.run(RECORDINGS[stem](url))
            finally:
                forget_database(admin_url, name)
            (HISTORIES / f"{stem}.json").write_text(text)
            print(f"recorded {stem}.json", flush=True)
    finally:
        stop_embedded(pgdata)


if __name__ == "__main__":
    main(sys.argv[1:])
