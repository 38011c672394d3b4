"""One check-list sync page, planned in Python and written set-based (decision 0024).

The page's eligible assessments arrive already checked and row-locked (decision 0020).
Each is planned with the pure domain function `plan_sync`; then the whole page's change
rows, section writes, `updated_at` stamps, audit rows and outbox events go out as one
statement per kind, inside one savepoint. Only when that batch fails is the page written
again one assessment per savepoint, so one bad row still cannot fail the page.
"""

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Table,
    TableValuedAlias,
    Update,
    bindparam,
    column,
    func,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, SQLModel, col

from domain.checklist_sync import ChangeKind, Checklist, CurrentSection, SectionChange, plan_sync
from domain.errors import NotFound
from domain.template import TemplateDefinition
from models.assessment import Assessment, AssessmentSection
from models.checklist_sync import (
    FAILED_KIND,
    FAILED_SECTION,
    ChecklistSync,
    ChecklistSyncChange,
    SectionRow,
    any_array,
)
from models.event import AuditEntry, OutboxEvent
from models.template import definition_of, get_version

HEARTBEAT_EVERY = 50
SYNCED, UNCHANGED, FAILED = "synced", "unchanged", "failed"
# The connection itself failed: the whole page is retried, no row is blamed.
CONNECTION_ERRORS = (OperationalError, InterfaceError)
AUDIT_ACTION = "checklist_synced"
EVENT_TYPE = "assessment.checklist_synced"

log = logging.getLogger(__name__)
Beat = Callable[[str], None]  # heartbeats the id of the assessment the page has reached


@dataclass(frozen=True)
class Plan:
    """One assessment's section changes (none: already current), or why it failed."""

    assessment: Assessment
    version: int = 0
    changes: tuple[SectionChange, ...] = ()
    error: str | None = None
    # Each change as its change row and the audit row show it (lists before and after).
    sections: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.error is not None:
            return FAILED
        return SYNCED if self.changes else UNCHANGED


class Templates:
    """Parsed definitions for one page: the pinned version, else the latest published.

    Each code is loaded once per page, in its own savepoint; a failure to load is kept
    and fails every assessment of that template, as it did one by one.
    """

    def __init__(self, session: Session, pinned: dict[str, int]) -> None:
        self.session, self.pinned = session, pinned
        self.loaded: dict[str, tuple[int, TemplateDefinition] | Exception] = {}

    def get(self, code: str) -> tuple[int, TemplateDefinition]:
        if code not in self.loaded:
            self.loaded[code] = self._load(code)
        found = self.loaded[code]
        if isinstance(found, Exception):
            raise found.with_traceback(None)
        return found

    def _load(self, code: str) -> tuple[int, TemplateDefinition] | Exception:
        try:
            with self.session.begin_nested():
                template = get_version(self.session, code, self.pinned.get(code))
                if template is None:
                    raise NotFound(f"template {code} has no published version")
                return template.version, definition_of(template)
        except CONNECTION_ERRORS:
            raise
        except Exception as error:
            return error


def plan_page(
    assessments: Sequence[Assessment],
    sections: dict[str, list[SectionRow]],
    templates: Templates,
    beat: Beat,
) -> list[Plan]:
    """Every assessment's plan, in id order; nothing is written.

    `plan_sync` is pure, so assessments of one template whose sections stand the same
    share one plan's changes: the state is told by the sections' codes, flags and the
    identity of their lists (`sections_of` parses each distinct list once per page).
    """
    plans = []
    planned: dict[tuple[Any, ...], Plan] = {}
    for n, assessment in enumerate(assessments, start=1):
        rows = sections[assessment.id]
        state = (assessment.template_code, *(_state(row) for row in rows))
        same = planned.get(state)
        if same is None:
            plan = _plan_one(assessment, rows, templates)
            if plan.error is None:
                planned[state] = plan
        else:
            plan = Plan(assessment, same.version, same.changes, sections=same.sections)
        plans.append(plan)
        if n % HEARTBEAT_EVERY == 0:
            beat(assessment.id)
    return plans


def _state(row: SectionRow) -> tuple[Any, ...]:
    """What `plan_sync` sees of one section (lists by identity; they live the whole page)."""
    return (
        row.code,
        row.preliminary,
        row.retired_at is not None,
        id(row.checks),
        id(row.failure_reasons),
        id(row.selected_failure_reasons),
    )


def _plan_one(assessment: Assessment, sections: list[SectionRow], templates: Templates) -> Plan:
    try:
        version, template = templates.get(assessment.template_code)
        changes = plan_sync([_current(s) for s in sections], template)
        return Plan(assessment, version, tuple(changes), sections=_shown(changes))
    except CONNECTION_ERRORS:
        raise
    except Exception as error:  # one bad row is counted and reported; the page goes on
        return Plan(assessment, error=_describe(error))


def write_page(
    session: Session, sync: ChecklistSync, plans: list[Plan], at: datetime, beat: Beat
) -> Counter[str]:
    """Write the page's plans set-based; if that fails, one savepoint per assessment.

    Returns the outcomes (synced, unchanged, failed) counted per assessment.
    """
    try:
        with session.begin_nested():
            _write(session, sync, plans, at)
        return Counter(plan.outcome for plan in plans)
    except CONNECTION_ERRORS:
        raise
    except Exception as error:
        log.warning(
            "check-list sync %s: the page's batch failed (%s: %s); writing it row by row",
            sync.id,
            type(error).__name__,
            str(error).partition("\n")[0],
        )
    outcomes: Counter[str] = Counter()
    for n, plan in enumerate(plans, start=1):
        outcomes[_write_one(session, sync, plan, at)] += 1
        if n % HEARTBEAT_EVERY == 0:
            beat(plan.assessment.id)
    return outcomes


def _write_one(session: Session, sync: ChecklistSync, plan: Plan, at: datetime) -> str:
    """The fallback: one assessment in its own savepoint; its failure is recorded instead."""
    if plan.outcome == SYNCED:
        try:
            with session.begin_nested():
                _write(session, sync, [plan], at)
            return SYNCED
        except CONNECTION_ERRORS:
            raise
        except Exception as error:
            plan = Plan(plan.assessment, error=_describe(error))
    if plan.outcome == FAILED:
        with session.begin_nested():
            _write(session, sync, [plan], at)
    return plan.outcome


def _write(session: Session, sync: ChecklistSync, plans: Sequence[Plan], at: datetime) -> None:
    """Every write of `plans`, one statement per kind (a dry run writes only the report)."""
    _insert_change_rows(session, sync.id, plans)
    changed = [plan for plan in plans if plan.outcome == SYNCED]
    if sync.dry_run or not changed:
        return
    _write_sections(session, changed, at)
    session.execute(
        update(Assessment)
        .where(col(Assessment.id) == any_array([plan.assessment.id for plan in changed]))
        .values(updated_at=at)
        # Nothing loaded needs refreshing; evaluating the page's objects would cost O(page).
        .execution_options(synchronize_session=False)
    )
    _insert_audit_rows_and_events(session, sync, changed, at)


def _insert_change_rows(session: Session, sync_id: str, plans: Sequence[Plan]) -> None:
    """One row per changed section, or one per failed assessment, in page order."""
    rows: list[dict[str, Any]] = []
    for plan in plans:
        ids = {
            "application_id": plan.assessment.application_id,
            "assessment_id": plan.assessment.id,
        }
        if plan.error is not None:
            rows.append(
                {**ids, "section": FAILED_SECTION, "kind": FAILED_KIND, "error": plan.error}
            )
        rows += [{**ids, **section} for section in plan.sections]
    _insert(session, ChecklistSyncChange, rows, sync_id=sync_id)


def _write_sections(session: Session, plans: Sequence[Plan], at: datetime) -> None:
    """Add, replace whole or restore, and retire (kept for history); never a preliminary one."""
    added: list[dict[str, Any]] = []
    replaced: list[dict[str, Any]] = []
    retired: list[dict[str, Any]] = []
    for plan in plans:
        for change in plan.changes:
            key = {"assessment_id": plan.assessment.id, "code": change.section}
            if change.kind == ChangeKind.ADDED and change.after is not None:
                added.append(
                    {
                        **key,
                        "id": f"{plan.assessment.id}-{change.section}",
                        "title": change.title or change.section,
                        "position": change.position or 0,
                        "checks": change.after.checks,
                        "failure_reasons": change.after.failure_reasons,
                    }
                )
            elif change.after is None:
                retired.append(key)
            else:
                replaced.append(
                    {
                        **key,
                        "checks": change.after.checks,
                        "failure_reasons": change.after.failure_reasons,
                    }
                )
    _insert(session, AssessmentSection, added, preliminary=False, selected_failure_reasons=[])
    if replaced:
        r = _recordset(AssessmentSection, replaced)
        session.execute(
            _section_update(r).values(
                checks=r.c.checks, failure_reasons=r.c.failure_reasons, retired_at=None
            )
        )
    if retired:
        session.execute(
            _section_update(_recordset(AssessmentSection, retired)).values(retired_at=at)
        )


def _section_update(r: TableValuedAlias) -> Update:
    """UPDATE assessment_sections … FROM `r`, matched on (assessment, code), main sections only."""
    return (
        update(AssessmentSection)
        .where(
            col(AssessmentSection.assessment_id) == r.c.assessment_id,
            col(AssessmentSection.code) == r.c.code,
            col(AssessmentSection.preliminary).is_(False),
        )
        .execution_options(synchronize_session=False)
    )


def _insert_audit_rows_and_events(
    session: Session, sync: ChecklistSync, plans: Sequence[Plan], at: datetime
) -> None:
    """Per changed assessment one audit row (lists before and after) and one
    `assessment.checklist_synced` event, under one key; a retry writes neither."""
    audit_rows, events = [], []
    for plan in plans:
        subject, key = plan.assessment.application_id, _key(sync, plan)
        detail = {"sync_id": sync.id, "template_version": plan.version, "sections": plan.sections}
        audit_rows.append({"subject_id": subject, "dedupe_key": key, "detail": detail})
        data = {
            "application_id": subject,
            "assessment_id": plan.assessment.id,
            "sync_id": sync.id,
            "template_code": plan.assessment.template_code,
            "template_version": plan.version,
            "sections": [{"section": c.section, "kind": c.kind.value} for c in plan.changes],
        }
        events.append({"subject": subject, "dedupe_key": key, "data": data})
    _insert(
        session,
        AuditEntry,
        audit_rows,
        dedupe=True,
        subject_kind="application",
        at=at,
        actor=sync.actor,
        action=AUDIT_ACTION,
    )
    _insert(session, OutboxEvent, events, dedupe=True, type=EVENT_TYPE, occurred_at=at)


def _key(sync: ChecklistSync, plan: Plan) -> str:
    """The audit row's and the event's dedupe key, the same as one by one."""
    return f"checklist-sync:{sync.id}:{plan.assessment.id}"


def _insert(
    session: Session,
    model: type[SQLModel],
    rows: list[dict[str, Any]],
    *,
    dedupe: bool = False,
    **same: Any,
) -> None:
    """INSERT INTO model's table SELECT … FROM the rows, in their order; `same` in every row.

    `dedupe`: a row whose `dedupe_key` is already there is not written (ON CONFLICT DO NOTHING).
    """
    if not rows:
        return
    table = _table(model)
    r = _recordset(model, rows)
    names = [c.name for c in r.columns if c.name != "n"]
    constants = [literal(value, table.c[name].type) for name, value in same.items()]
    statement = pg_insert(table).from_select(
        [*same, *names], select(*constants, *(r.c[name] for name in names)).order_by(r.c.n)
    )
    if dedupe:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    session.execute(statement)


def _recordset(model: type[SQLModel], rows: list[dict[str, Any]]) -> TableValuedAlias:
    """`jsonb_to_recordset(:rows) AS r(n, …)`: the whole batch as one JSONB parameter.

    The columns are those the rows name, typed as in `model`'s table; `n` numbers the rows
    so an insert keeps the page's order. A key a row lacks, or a JSON null, is SQL NULL.
    """
    table = _table(model)
    names = list(dict.fromkeys(name for row in rows for name in row))
    return (
        func.jsonb_to_recordset(
            bindparam("rows", [{"n": n, **row} for n, row in enumerate(rows)], type_=JSONB())
        )
        .table_valued(column("n", Integer()), *(column(name, table.c[name].type) for name in names))
        .render_derived(name="r", with_types=True)
    )


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, inspect(model).local_table)


def _current(section: SectionRow) -> CurrentSection:
    return CurrentSection(
        code=section.code,
        preliminary=section.preliminary,
        retired=section.retired_at is not None,
        checklist=Checklist(checks=section.checks, failure_reasons=section.failure_reasons),
        selected_failure_reasons=section.selected_failure_reasons,
    )


def _shown(changes: Sequence[SectionChange]) -> list[dict[str, Any]]:
    """Each change as its change row and the audit row show it (lists before and after)."""
    return [
        {
            "section": c.section,
            "kind": c.kind.value,
            "before": _dump(c.before),
            "after": _dump(c.after),
        }
        for c in changes
    ]


def _dump(checklist: Checklist | None) -> dict[str, Any] | None:
    return checklist.model_dump(mode="json") if checklist else None


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]
