"""Check-list sync activities on real PostgreSQL: eligibility, savepoints, dry runs, retries."""

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, text
from sqlmodel import Session, col, select
from temporalio.testing import ActivityEnvironment

from activities.checklist_sync import ChecklistSyncActivities
from domain.application import ApplicationStatus, AssessmentStatus
from models.application import Application
from models.assessment import Assessment, AssessmentSection
from models.checklist_sync import ChecklistSyncChange
from models.event import AuditEntry, OutboxEvent
from models.template import Template
from tests.support.seed import T0
from workflows.payloads.checklist_sync import (
    ChecklistSyncProgress,
    OpenChecklistSyncInput,
    SyncChecklistPageInput,
)

JSON = dict[str, Any]
AT = T0 + timedelta(days=30)


def _section(code: str, checks: list[str], reasons: list[str], **extra: Any) -> JSON:
    return {
        "code": code,
        "title": code.title(),
        "elements": [{"code": f"{code}_q", "title": "Question", "type": "text"}],
        "checks": checks,
        "failure_reasons": [
            {"code": r, "label": r.replace("_", " "), "kind": "further_information"}
            for r in reasons
        ],
        **extra,
    }


STAGES = [
    {"code": "pre", "name": "Pre-assessment", "levels": 1, "pre_assessment": True},
    {"code": "assessment", "name": "Assessment", "levels": 1},
]
V1 = [
    _section("prelim", ["Identity seen"], ["no_id"], preliminary=True),
    _section("personal", ["Name matches"], ["id_mismatch", "fraud"]),
    _section("qualifications", ["Degree level"], ["no_degree"]),
    _section("legacy", ["Old check"], ["old_reason"]),
]
V2 = [
    _section("prelim", ["Identity seen", "NEW prelim check"], ["no_id"], preliminary=True),
    _section("personal", ["Name matches", "Address matches"], ["id_mismatch"]),
    _section("qualifications", ["Degree level"], ["no_degree"]),
    _section("references", ["Two referees"], ["no_referee"]),
]


def publish(engine: Engine, version: int, sections: list[JSON], code: str = "qts") -> None:
    """Store version `version` of template `code` with `sections`."""
    with Session(engine) as session, session.begin():
        session.add(
            Template(
                code=code,
                version=version,
                name="Qualified teacher status",
                definition={"sections": sections, "stages": STAGES},
                published_at=T0 + timedelta(days=version),
                published_by="admin",
            )
        )


def seed_assessment(
    engine: Engine, status: AssessmentStatus, *, code: str = "qts", sections: list[JSON] = V1
) -> str:
    """A submitted application whose assessment snapshots `sections`; returns the app id."""
    application_id = str(uuid.uuid4())
    assessment_id = f"asm-{application_id}"
    with Session(engine) as session, session.begin():
        session.add(
            Application(
                id=application_id,
                template_code=code,
                template_version=1,
                applicant_id="alice",
                status=ApplicationStatus.SUBMITTED,
                created_at=T0,
                updated_at=T0,
            )
        )
        session.flush()
        session.add(
            Assessment(
                id=assessment_id,
                application_id=application_id,
                template_code=code,
                template_version=1,
                status=status,
                created_at=T0,
                updated_at=T0,
            )
        )
        session.flush()
        for position, s in enumerate(sections):
            session.add(
                AssessmentSection(
                    id=f"{assessment_id}-{s['code']}",
                    assessment_id=assessment_id,
                    code=s["code"],
                    title=s["title"],
                    position=position,
                    preliminary=s.get("preliminary", False),
                    checks=s["checks"],
                    failure_reasons=s["failure_reasons"],
                )
            )
    return application_id


def sections_of(engine: Engine, application_id: str) -> dict[str, JSON]:
    """Every section (retired too) of the application's assessment, by code."""
    with Session(engine) as session:
        rows = session.exec(
            select(AssessmentSection).where(
                AssessmentSection.assessment_id == f"asm-{application_id}"
            )
        ).all()
        return {r.code: r.model_dump(warnings=False) for r in rows}


def count(engine: Engine, table: type) -> int:
    """Rows in `table`."""
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def run_sync(
    engine: Engine,
    sync_id: str = "s1",
    *,
    dry_run: bool = False,
    template_code: str | None = None,
    page_size: int = 500,
) -> ChecklistSyncProgress:
    """Open the sync and run its pages to the end, as the workflow would."""
    activities = ChecklistSyncActivities(engine)
    progress = ActivityEnvironment().run(
        activities.open_checklist_sync,
        OpenChecklistSyncInput(
            sync_id=sync_id, template_code=template_code, dry_run=dry_run, actor="admin", at=AT
        ),
    )
    while not progress.done:
        progress = ActivityEnvironment().run(
            activities.sync_checklist_page,
            SyncChecklistPageInput(
                sync_id=sync_id, page=progress.pages + 1, page_size=page_size, at=AT
            ),
        )
    return progress


def _counts(p: ChecklistSyncProgress) -> tuple[int, int, int, int, int]:
    return (p.found, p.synced, p.unchanged, p.skipped, p.failed)


def test_only_not_started_and_pre_assessment_change(db: Engine) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    apps = {status: seed_assessment(db, status) for status in AssessmentStatus}

    progress = run_sync(db)

    assert _counts(progress) == (2, 2, 0, 0, 0)
    for status, application_id in apps.items():
        personal = sections_of(db, application_id)["personal"]
        changed = personal["checks"] == ["Name matches", "Address matches"]
        assert changed == (status in {"NOT_STARTED", "PRE_ASSESSMENT"}), status
    untouched = [
        apps[AssessmentStatus(s)] for s in ("IN_PROGRESS", "AWAITING_INFORMATION", "COMPLETED")
    ]
    for application_id in untouched:
        assert sorted(sections_of(db, application_id)) == sorted(s["code"] for s in V1)


def test_sections_are_replaced_whole_added_and_retired_but_preliminary_never(db: Engine) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    application_id = seed_assessment(db, AssessmentStatus.PRE_ASSESSMENT)

    run_sync(db)

    sections = sections_of(db, application_id)
    assert sections["prelim"]["checks"] == ["Identity seen"]  # preliminary: never touched
    assert sections["prelim"]["retired_at"] is None
    assert [r["code"] for r in sections["personal"]["failure_reasons"]] == ["id_mismatch"]
    assert sections["qualifications"]["checks"] == ["Degree level"]
    assert sections["legacy"]["retired_at"] == AT  # kept for history, lists unchanged
    assert sections["legacy"]["checks"] == ["Old check"]
    assert sections["references"]["checks"] == ["Two referees"]
    assert sections["references"]["retired_at"] is None


def test_a_selected_reason_the_new_version_drops_is_kept_and_marked_retired(db: Engine) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    application_id = seed_assessment(db, AssessmentStatus.NOT_STARTED)
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE assessment_sections SET selected_failure_reasons = '[\"fraud\"]' "
                "WHERE id = :id"
            ),
            {"id": f"asm-{application_id}-personal"},
        )

    first = run_sync(db, "s1")
    second = run_sync(db, "s2")

    reasons = sections_of(db, application_id)["personal"]["failure_reasons"]
    assert [(r["code"], r.get("retired", False)) for r in reasons] == [
        ("id_mismatch", False),
        ("fraud", True),
    ]
    assert (first.synced, second.synced, second.unchanged) == (1, 0, 1)


def test_an_audit_row_and_event_per_changed_assessment_with_lists_before_and_after(
    db: Engine,
) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    application_id = seed_assessment(db, AssessmentStatus.NOT_STARTED)

    run_sync(db)

    with Session(db) as session:
        audit = session.exec(select(AuditEntry)).one()
        event = session.exec(select(OutboxEvent)).one()
    assert (audit.subject_id, audit.action, audit.actor, audit.at) == (
        application_id,
        "checklist_synced",
        "admin",
        AT,
    )
    by_section = {s["section"]: s for s in audit.detail["sections"]}
    assert by_section["personal"]["before"]["checks"] == ["Name matches"]
    assert by_section["personal"]["after"]["checks"] == ["Name matches", "Address matches"]
    assert by_section["legacy"]["after"] is None
    assert by_section["references"]["before"] is None
    assert audit.detail["template_version"] == 2
    assert event.type == "assessment.checklist_synced"


def test_a_dry_run_reports_the_changes_and_writes_nothing(db: Engine) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    application_id = seed_assessment(db, AssessmentStatus.NOT_STARTED)
    before = sections_of(db, application_id)

    progress = run_sync(db, dry_run=True)

    assert _counts(progress) == (1, 1, 0, 0, 0)
    assert sections_of(db, application_id) == before
    assert count(db, AuditEntry) == count(db, OutboxEvent) == 0
    with Session(db) as session:
        changes = session.exec(select(ChecklistSyncChange).order_by(col(ChecklistSyncChange.id)))
        found = {(c.application_id, c.section, c.kind) for c in changes}
    assert found == {
        (application_id, "personal", "replaced"),
        (application_id, "legacy", "retired"),
        (application_id, "references", "added"),
    }


def test_a_second_run_changes_nothing(db: Engine) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    for _ in range(3):
        seed_assessment(db, AssessmentStatus.NOT_STARTED)

    first = run_sync(db, "s1", page_size=2)
    audits = count(db, AuditEntry)
    second = run_sync(db, "s2", page_size=2)

    assert _counts(first) == (3, 3, 0, 0, 0)
    assert _counts(second) == (3, 0, 3, 0, 0)
    assert count(db, AuditEntry) == audits == 3


def test_a_retried_page_is_not_applied_twice(db: Engine) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    for _ in range(3):
        seed_assessment(db, AssessmentStatus.NOT_STARTED)
    activities = ChecklistSyncActivities(db)
    ActivityEnvironment().run(
        activities.open_checklist_sync,
        OpenChecklistSyncInput(
            sync_id="s1", template_code=None, dry_run=False, actor="admin", at=AT
        ),
    )
    page = SyncChecklistPageInput(sync_id="s1", page=1, page_size=2, at=AT)

    first = ActivityEnvironment().run(activities.sync_checklist_page, page)
    retry = ActivityEnvironment().run(activities.sync_checklist_page, page)

    assert _counts(first) == _counts(retry) == (2, 2, 0, 0, 0)
    assert count(db, AuditEntry) == 2


def test_a_bad_row_counts_as_failed_and_the_page_goes_on(db: Engine) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    apps = [seed_assessment(db, AssessmentStatus.NOT_STARTED) for _ in range(3)]
    bad = sorted(apps)[1]  # in the middle of the page
    with db.begin() as conn:
        conn.execute(
            text('UPDATE assessment_sections SET checks = \'{"not": "a list"}\' WHERE id = :id'),
            {"id": f"asm-{bad}-personal"},
        )

    progress = run_sync(db)

    assert _counts(progress) == (3, 2, 0, 0, 1)
    assert sections_of(db, bad)["legacy"]["retired_at"] is None  # rolled back to its savepoint
    with Session(db) as session:
        failure = session.exec(
            select(ChecklistSyncChange).where(ChecklistSyncChange.kind == "failed")
        ).one()
    assert failure.application_id == bad
    assert failure.error is not None
    assert "ValidationError" in failure.error


def test_a_row_the_database_refuses_fails_alone_and_the_page_goes_on(db: Engine) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    apps = [seed_assessment(db, AssessmentStatus.NOT_STARTED) for _ in range(3)]
    bad = sorted(apps)[1]
    with db.begin() as conn:  # adding `references` to it now clashes on the primary key
        conn.execute(
            text("UPDATE assessment_sections SET id = :clash WHERE id = :id"),
            {"clash": f"asm-{bad}-references", "id": f"asm-{bad}-legacy"},
        )

    progress = run_sync(db)  # the page's batch fails; it is written again row by row

    assert _counts(progress) == (3, 2, 0, 0, 1)
    for good in set(apps) - {bad}:
        assert "references" in sections_of(db, good)
    with Session(db) as session:
        failure = session.exec(
            select(ChecklistSyncChange).where(ChecklistSyncChange.kind == "failed")
        ).one()
    assert failure.application_id == bad
    assert failure.error is not None
    assert failure.error.startswith("IntegrityError")
    assert count(db, AuditEntry) == 2


def test_a_sync_scoped_to_one_template_leaves_the_others(db: Engine) -> None:
    for code in ("qts", "eyts"):
        publish(db, 1, V1, code)
        publish(db, 2, V2, code)
    qts = seed_assessment(db, AssessmentStatus.NOT_STARTED, code="qts")
    eyts = seed_assessment(db, AssessmentStatus.NOT_STARTED, code="eyts")

    progress = run_sync(db, template_code="eyts")

    assert _counts(progress) == (1, 1, 0, 0, 0)
    assert "references" not in sections_of(db, qts)
    assert "references" in sections_of(db, eyts)
