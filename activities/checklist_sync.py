"""Check-list sync activities: open a sync, sync one page of assessments, close it, or
cancel it for an operator."""

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session, select
from temporalio import activity

from activities.base import EngineActivities, transaction_activity
from activities.cancellation import record_cancelled
from activities.checklist_sync_batch import (
    FAILED,
    SYNCED,
    UNCHANGED,
    Templates,
    plan_page,
    write_page,
)
from domain.checklist_sync import SyncStatus
from domain.errors import Invalid, NotFound, field_error
from models import checklist_sync as syncs
from models.checklist_sync import ChecklistSync
from models.template import Template
from models.views import view_of
from workflows.payloads.checklist_sync import (
    CancelChecklistSyncInput,
    ChecklistSyncProgress,
    CloseChecklistSyncInput,
    OpenChecklistSyncInput,
    SyncChecklistPageInput,
)

# The commands that name a sync's scope (each can be the first to write its row).
SyncScope = OpenChecklistSyncInput | CloseChecklistSyncInput | CancelChecklistSyncInput
# The counts a cancelled sync's audit row and event keep.
COUNTS = {"pages", "found", "synced", "unchanged", "skipped", "failed"}


class ChecklistSyncActivities(EngineActivities):
    """I/O for ChecklistSyncWorkflow; each activity is one transaction, safe to retry."""

    @transaction_activity
    def open_checklist_sync(
        self, session: Session, command: OpenChecklistSyncInput
    ) -> ChecklistSyncProgress:
        """Create the sync's row once, pinning each template's latest published version."""
        versions = _latest_versions(session, command.template_code)
        if command.template_code is not None and not versions:
            raise Invalid(
                f"no published template {command.template_code!r}",
                errors=[field_error("template_code", "no published template")],
            )
        session.execute(
            pg_insert(ChecklistSync)
            .values(
                **_opening(command, command.actor),
                template_versions=versions,
                total=syncs.count_eligible(session, command.template_code),
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        sync = syncs.lock(session, command.sync_id)
        assert sync is not None
        return progress_of(sync)

    @transaction_activity
    def sync_checklist_page(
        self, session: Session, command: SyncChecklistPageInput
    ) -> ChecklistSyncProgress:
        """Sync the next page of eligible assessments; a page already committed is not redone."""
        sync = syncs.lock(session, command.sync_id)
        if sync is None:
            raise NotFound(f"check-list sync {command.sync_id} was never opened")
        if sync.pages >= command.page:  # a retry of a page that committed
            return progress_of(sync)
        if sync.status != SyncStatus.RUNNING:  # cancelled meanwhile: no more pages
            return progress_of(sync, done=True)
        ids = syncs.eligible_page(session, sync.template_code, sync.cursor, command.page_size)
        assessments = syncs.still_eligible(session, ids, lock=not sync.dry_run) if ids else []
        sections = syncs.sections_of(session, [a.id for a in assessments])

        def beat(assessment_id: str) -> None:
            activity.heartbeat({"page": command.page, "cursor": assessment_id})

        # Plan every assessment in Python, then write the page set-based (decision 0024).
        templates = Templates(session, sync.template_versions)
        plans = plan_page(assessments, sections, templates, beat)
        outcomes = write_page(session, sync, plans, command.at, beat)
        sync.found += len(ids)
        sync.skipped += len(ids) - len(assessments)
        sync.synced += outcomes[SYNCED]
        sync.unchanged += outcomes[UNCHANGED]
        sync.failed += outcomes[FAILED]
        sync.pages = command.page
        sync.cursor = ids[-1] if ids else sync.cursor
        sync.updated_at = command.at
        session.add(sync)
        session.flush()
        return progress_of(sync, done=len(ids) < command.page_size)

    @transaction_activity
    def close_checklist_sync(
        self, session: Session, command: CloseChecklistSyncInput
    ) -> ChecklistSyncProgress:
        """Record how the sync ended (once; a retry changes nothing)."""
        # None: it failed before opening (e.g. an unknown template)
        sync = syncs.lock(session, command.sync_id) or _unopened(command, command.actor)
        if sync.status == SyncStatus.RUNNING:
            sync.status = command.status
            sync.error = (command.error or "")[:2000] or None
            sync.finished_at = sync.updated_at = command.at
            session.add(sync)
            session.flush()
        return progress_of(sync, done=True)

    @transaction_activity
    def cancel_checklist_sync(
        self, session: Session, command: CancelChecklistSyncInput
    ) -> ChecklistSyncProgress:
        """An operator's cancel: a running sync stops as CANCELLED, its pages kept (audit row
        and `checklist_sync.cancelled`); a sync that ended is left as it is."""
        # None: cancelled before its row was opened
        sync = syncs.lock(session, command.sync_id) or _unopened(command, command.started_by)
        if sync.status == SyncStatus.RUNNING:
            sync.status = SyncStatus.CANCELLED
            sync.finished_at = sync.updated_at = command.at
            session.add(sync)
            session.flush()
            record_cancelled(
                session,
                command,
                subject_kind="checklist_sync",
                subject_id=sync.id,
                counts=progress_of(sync, done=True).model_dump(include=COUNTS),
                data={"sync_id": sync.id},
            )
        return progress_of(sync, done=True)


def progress_of(sync: ChecklistSync, *, done: bool = False) -> ChecklistSyncProgress:
    """The row's counts as the workflow and the API report them."""
    return view_of(ChecklistSyncProgress, sync, sync_id=sync.id, done=done)


def _unopened(
    command: CloseChecklistSyncInput | CancelChecklistSyncInput, actor: str
) -> ChecklistSync:
    """The row of a sync that ended before it opened (added by the caller's writes)."""
    return ChecklistSync(**_opening(command, actor))


def _opening(command: SyncScope, actor: str) -> dict[str, Any]:
    """A sync's row as it opens: its scope, who started it, RUNNING from `command.at`."""
    return {
        "id": command.sync_id,
        "template_code": command.template_code,
        "dry_run": command.dry_run,
        "status": SyncStatus.RUNNING,
        "actor": actor,
        "started_at": command.at,
        "updated_at": command.at,
    }


def _latest_versions(session: Session, template_code: str | None) -> dict[str, int]:
    """{code: latest published version} of one template, or of every template."""
    query = select(Template.code, Template.version)
    if template_code is not None:
        query = query.where(Template.code == template_code)
    latest: dict[str, int] = {}
    for code, version in session.exec(query).all():
        latest[code] = max(version, latest.get(code, 0))
    return latest
