"""Who may call each route: one check (domain) and the words of its 403, per caller type."""

from typing import Annotated

from fastapi import Depends

from api.deps import allow
from domain.access import (
    Principal,
    can_assign,
    can_claim_induction,
    can_create_application,
    can_list_applications,
    can_manage_outcome_records,
    can_manage_users,
    can_migrate_induction,
    can_qa_outcomes,
    can_read_assessment,
    can_read_events,
    can_read_inductions,
    can_read_pending_releases,
    can_read_reviews,
    can_read_templates,
    can_rebook_outcomes,
    can_release_outcomes,
    can_report_induction,
    can_set_candidate_status,
    can_submit_outcomes,
)
from domain.checklist_sync import can_read_syncs, can_start_sync
from domain.outcome import can_read_outcome_records
from domain.webhook import can_manage_webhooks

# Every caller type the routes take, grouped by route module.
Applicant = Annotated[
    Principal,
    Depends(allow(can_create_application, "create applications")),
]
ApplicationStaff = Annotated[
    Principal,
    Depends(allow(can_list_applications, "list applications")),
]
AssessmentReader = Annotated[
    Principal,
    Depends(allow(can_read_assessment, "read assessments")),
]
Registrar = Annotated[
    Principal,
    Depends(allow(can_manage_outcome_records, "manage these records")),
]
RecordsReader = Annotated[
    Principal,
    Depends(allow(can_read_outcome_records, "read these records")),
]
StatusSetter = Annotated[
    Principal,
    Depends(allow(can_set_candidate_status, "change a candidate's status")),
]
SyncStarter = Annotated[
    Principal,
    Depends(allow(can_start_sync, "start check-list syncs")),
]
SyncReader = Annotated[
    Principal,
    Depends(allow(can_read_syncs, "read check-list syncs")),
]
EventReader = Annotated[
    Principal,
    Depends(allow(can_read_events, "read the event feed")),
]
School = Annotated[
    Principal,
    Depends(allow(can_report_induction, "report inductions")),
]
AppropriateBody = Annotated[
    Principal,
    Depends(allow(can_claim_induction, "claim inductions")),
]
InductionMigrator = Annotated[
    Principal,
    Depends(allow(can_migrate_induction, "load migrated inductions")),
]
InductionReader = Annotated[
    Principal,
    Depends(allow(can_read_inductions, "read inductions")),
]
OutcomeAssessor = Annotated[
    Principal,
    Depends(allow(can_submit_outcomes, "submit outcomes")),
]
OutcomeReader = Annotated[
    Principal,
    Depends(allow(can_read_outcome_records, "read outcomes")),
]
Qa = Annotated[
    Principal,
    Depends(allow(can_qa_outcomes, "sign outcomes off at QA")),
]
Rebooker = Annotated[
    Principal,
    Depends(allow(can_rebook_outcomes, "book resits or retakes")),
]
Releaser = Annotated[
    Principal,
    Depends(allow(can_release_outcomes, "release outcomes")),
]
PendingReader = Annotated[
    Principal,
    Depends(allow(can_read_pending_releases, "read pending outcome releases")),
]
ReviewStaff = Annotated[
    Principal,
    Depends(allow(can_read_reviews, "work on reviews")),
]
Assigner = Annotated[
    Principal,
    Depends(allow(can_assign, "assign review work")),
]
SlaReader = Annotated[
    Principal,
    Depends(allow(lambda who: who.is_internal, "read SLAs")),
]
SlaPublisher = Annotated[
    Principal,
    Depends(allow(can_manage_users, "publish SLA definitions")),
]
TemplatePublisher = Annotated[
    Principal,
    Depends(allow(can_manage_users, "publish templates")),
]
TemplateReader = Annotated[
    Principal,
    Depends(allow(can_read_templates, "read templates")),
]
UserAdmin = Annotated[
    Principal,
    Depends(allow(can_manage_users, "manage users")),
]
WebhookAdmin = Annotated[
    Principal,
    Depends(allow(can_manage_webhooks, "manage webhooks")),
]
