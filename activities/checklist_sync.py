"""Check-list sync activities: open a sync, sync one page of assessments, close it."""

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, select
from temporalio import activity

from activities.refusal import refusals_fail_fast
from domain.checklist_sync import (
    ChangeKind,
    Checklist,
    CurrentSection,
    SectionChange,
    SyncStatus,
    plan_sync,
)
from domain.errors import Invalid, NotFound, field_error
from domain.template import TemplateDefinition
from models import checklist_sync as syncs
from models.assessment import Assessment, AssessmentSection
from models.checklist_sync import FAILED_KIND, FAILED_SECTION, ChecklistSync, ChecklistSyncChange
from models.event import publish, write_audit
from models.template import Template, definition_of, get_version
from workflows.payloads.checklist_sync import (
    CLOSE_CHECKLIST_SYNC,
    OPEN_CHECKLIST_SYNC,
    SYNC_CHECKLIST_PAGE,
    ChecklistSyncProgress,
    CloseChecklistSyncInput,
    OpenChecklistSyncInput,
    SyncChecklistPageInput,
)

HEARTBEAT_EVERY = 50
SYNCED, UNCHANGED, FAILED = "synced", "unchanged", "failed"
# The connection itself failed: the whole page is retried, no row is blamed.
_CONNECTION_ERRORS = (OperationalError, InterfaceError)


class ChecklistSyncActivities:
    """I/O for ChecklistSyncWorkflow; each activity is one transaction, safe to retry."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name=OPEN_CHECKLIST_SYNC)
    @refusals_fail_fast
    def open_checklist_sync(self, command: OpenChecklistSyncInput) -> ChecklistSyncProgress:
        """Create the sync's row once, pinning each template's latest published version."""
        with Session(self.engine) as session, session.begin():
            versions = _latest_versions(session, command.template_code)
            if command.template_code is not None and not versions:
                raise Invalid(
                    f"no published template {command.template_code!r}",
                    errors=[field_error("template_code", "no published template")],
                )
            session.execute(
                pg_insert(ChecklistSync)
                .values(
                    id=command.sync_id,
                    template_code=command.template_code,
                    dry_run=command.dry_run,
                    status=SyncStatus.RUNNING.value,
                    actor=command.actor,
                    template_versions=versions,
                    total=syncs.count_eligible(session, command.template_code),
                    started_at=command.at,
                    updated_at=command.at,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
            sync = syncs.lock(session, command.sync_id)
            assert sync is not None
            return progress_of(sync)

    @activity.defn(name=SYNC_CHECKLIST_PAGE)
    @refusals_fail_fast
    def sync_checklist_page(self, command: SyncChecklistPageInput) -> ChecklistSyncProgress:
        """Sync the next page of eligible assessments; a page already committed is not redone."""
        with Session(self.engine) as session, session.begin():
            sync = syncs.lock(session, command.sync_id)
            if sync is None:
                raise NotFound(f"check-list sync {command.sync_id} was never opened")
            if sync.pages >= command.page:  # a retry of a page that committed
                return progress_of(sync)
            ids = syncs.eligible_page(session, sync.template_code, sync.cursor, command.page_size)
            assessments = syncs.still_eligible(session, ids, lock=not sync.dry_run) if ids else []
            sections = syncs.sections_of(session, [a.id for a in assessments])
            templates = _Templates(session, sync.template_versions)
            outcomes: Counter[str] = Counter()
            for n, assessment in enumerate(assessments, start=1):
                outcome = _sync_one(
                    session, sync, assessment, sections[assessment.id], templates, command.at
                )
                outcomes[outcome] += 1
                if n % HEARTBEAT_EVERY == 0:
                    activity.heartbeat({"page": command.page, "cursor": assessment.id})
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

    @activity.defn(name=CLOSE_CHECKLIST_SYNC)
    @refusals_fail_fast
    def close_checklist_sync(self, command: CloseChecklistSyncInput) -> ChecklistSyncProgress:
        """Record how the sync ended (once; a retry changes nothing)."""
        with Session(self.engine) as session, session.begin():
            sync = syncs.lock(session, command.sync_id)
            if sync is None:  # it failed before opening (e.g. an unknown template)
                sync = ChecklistSync(
                    id=command.sync_id,
                    template_code=command.template_code,
                    dry_run=command.dry_run,
                    status=SyncStatus.RUNNING.value,
                    actor=command.actor,
                    started_at=command.at,
                    updated_at=command.at,
                )
            if sync.status == SyncStatus.RUNNING.value:
                sync.status = command.status.value
                sync.error = (command.error or "")[:2000] or None
                sync.finished_at = sync.updated_at = command.at
                session.add(sync)
                session.flush()
            return progress_of(sync, done=True)


def progress_of(sync: ChecklistSync, *, done: bool = False) -> ChecklistSyncProgress:
    """The row's counts as the workflow and the API report them."""
    return ChecklistSyncProgress(
        sync_id=sync.id,
        status=SyncStatus(sync.status),
        dry_run=sync.dry_run,
        template_code=sync.template_code,
        total=sync.total,
        found=sync.found,
        synced=sync.synced,
        unchanged=sync.unchanged,
        skipped=sync.skipped,
        failed=sync.failed,
        pages=sync.pages,
        cursor=sync.cursor,
        done=done,
        error=sync.error,
    )


def _latest_versions(session: Session, template_code: str | None) -> dict[str, int]:
    """{code: latest published version} of one template, or of every template."""
    query = select(Template.code, Template.version)
    if template_code is not None:
        query = query.where(Template.code == template_code)
    latest: dict[str, int] = {}
    for code, version in session.exec(query).all():
        latest[code] = max(version, latest.get(code, 0))
    return latest


class _Templates:
    """Parsed definitions for one page: the pinned version, else the latest published."""

    def __init__(self, session: Session, pinned: dict[str, int]) -> None:
        self.session, self.pinned = session, pinned
        self.parsed: dict[str, tuple[int, TemplateDefinition]] = {}

    def get(self, code: str) -> tuple[int, TemplateDefinition]:
        if code not in self.parsed:
            template = get_version(self.session, code, self.pinned.get(code))
            if template is None:
                raise NotFound(f"template {code} has no published version")
            self.parsed[code] = (template.version, definition_of(template))
        return self.parsed[code]


def _sync_one(
    session: Session,
    sync: ChecklistSync,
    assessment: Assessment,
    sections: list[AssessmentSection],
    templates: _Templates,
    at: datetime,
) -> str:
    """Plan and (unless a dry run) apply one assessment's changes inside its own savepoint."""
    try:
        with session.begin_nested():
            version, template = templates.get(assessment.template_code)
            changes = plan_sync([_current(s) for s in sections], template)
            if not changes:
                return UNCHANGED
            _record_changes(session, sync.id, assessment, changes)
            if not sync.dry_run:
                _apply(session, assessment, changes, at)
                _audit(session, sync, assessment, version, changes, at)
            return SYNCED
    except _CONNECTION_ERRORS:
        raise
    except Exception as error:  # one bad row is counted and reported; the page goes on
        with session.begin_nested():
            session.execute(
                insert(ChecklistSyncChange).values(
                    sync_id=sync.id,
                    application_id=assessment.application_id,
                    assessment_id=assessment.id,
                    section=FAILED_SECTION,
                    kind=FAILED_KIND,
                    error=f"{type(error).__name__}: {error}"[:2000],
                )
            )
        return FAILED


def _current(section: AssessmentSection) -> CurrentSection:
    return CurrentSection(
        code=section.code,
        preliminary=section.preliminary,
        retired=section.retired_at is not None,
        checklist=Checklist(checks=section.checks, failure_reasons=section.failure_reasons),
        selected_failure_reasons=section.selected_failure_reasons,
    )


def _dump(checklist: Checklist | None) -> dict[str, Any] | None:
    return checklist.model_dump(mode="json") if checklist else None


def _record_changes(
    session: Session, sync_id: str, assessment: Assessment, changes: list[SectionChange]
) -> None:
    session.execute(
        insert(ChecklistSyncChange),
        [
            {
                "sync_id": sync_id,
                "application_id": assessment.application_id,
                "assessment_id": assessment.id,
                "section": change.section,
                "kind": change.kind.value,
                "before": _dump(change.before),
                "after": _dump(change.after),
            }
            for change in changes
        ],
    )


def _apply(
    session: Session, assessment: Assessment, changes: list[SectionChange], at: datetime
) -> None:
    """Write the changes: replace whole, add, retire (kept for history), or restore."""
    for change in changes:
        if change.kind == ChangeKind.ADDED and change.after is not None:
            session.execute(
                insert(AssessmentSection).values(
                    id=f"{assessment.id}-{change.section}",
                    assessment_id=assessment.id,
                    code=change.section,
                    title=change.title or change.section,
                    position=change.position or 0,
                    preliminary=False,
                    checks=change.after.checks,
                    failure_reasons=change.after.failure_reasons,
                    selected_failure_reasons=[],
                )
            )
            continue
        values: dict[str, Any] = (
            {"retired_at": at}
            if change.after is None
            else {
                "checks": change.after.checks,
                "failure_reasons": change.after.failure_reasons,
                "retired_at": None,
            }
        )
        session.execute(
            update(AssessmentSection)
            .where(
                col(AssessmentSection.assessment_id) == assessment.id,
                col(AssessmentSection.code) == change.section,
                col(AssessmentSection.preliminary).is_(False),
            )
            .values(**values)
            # Nothing loaded needs refreshing; evaluating the page's objects would cost O(page).
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(Assessment)
        .where(col(Assessment.id) == assessment.id)
        .values(updated_at=at)
        .execution_options(synchronize_session=False)
    )


def _audit(
    session: Session,
    sync: ChecklistSync,
    assessment: Assessment,
    version: int,
    changes: list[SectionChange],
    at: datetime,
) -> None:
    """One audit row (lists before and after) and one event per changed assessment."""
    key = f"checklist-sync:{sync.id}:{assessment.id}"
    sections = [
        {
            "section": c.section,
            "kind": c.kind.value,
            "before": _dump(c.before),
            "after": _dump(c.after),
        }
        for c in changes
    ]
    detail = {"sync_id": sync.id, "template_version": version, "sections": sections}
    write_audit(
        session,
        subject_kind="application",
        subject_id=assessment.application_id,
        at=at,
        actor=sync.actor,
        action="checklist_synced",
        key=key,
        detail=detail,
    )
    publish(
        session,
        type="assessment.checklist_synced",
        subject=assessment.application_id,
        at=at,
        key=key,
        data={
            "application_id": assessment.application_id,
            "assessment_id": assessment.id,
            "sync_id": sync.id,
            "template_code": assessment.template_code,
            "template_version": version,
            "sections": [{"section": c.section, "kind": c.kind.value} for c in changes],
        },
    )
