"""History of ChecklistSyncWorkflow: three assessments of one template synced two a page
(open, two pages, close; too small to continue as new)."""

import uuid

from api.services import checklist_sync as syncs
from domain.application import AssessmentStatus
from domain.checklist_sync import SyncStatus
from tests.activities.test_checklist_sync_activities import V1, V2, publish, seed_assessment
from tests.replay.recording import history_json, recording
from workflows.payloads.checklist_sync import StartChecklistSyncInput

CODE = "replay_sync"  # a template of its own, so the sync's scope is exactly what is seeded


async def record_checklist_sync_two_pages(database_url: str) -> str:
    """Templates v1 and v2; three v1 assessments not started; a sync scoped to the template."""
    async with recording(database_url) as rec:
        publish(rec.engine, 1, V1, code=CODE)
        publish(rec.engine, 2, V2, code=CODE)
        for _ in range(3):
            seed_assessment(rec.engine, AssessmentStatus.NOT_STARTED, code=CODE)
        start = StartChecklistSyncInput(
            sync_id=f"replay-{uuid.uuid4().hex[:8]}", template_code=CODE, page_size=2
        )
        handle = await syncs.start(rec.client, start, task_queue=rec.queue)
        result = await handle.result()
        assert result.status == SyncStatus.COMPLETED, result
        assert (result.found, result.synced, result.pages) == (3, 3, 2), result
        return await history_json(handle)
