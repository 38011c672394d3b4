"""Inductions: school reports, AB claims and releases, migrated data, and the teacher's view."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, status
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api import commands
from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.roles import AppropriateBody, InductionMigrator, InductionReader, School
from api.services import induction as inductions
from domain.access import Principal
from domain.errors import Conflict, Forbidden
from domain.induction import TRN_PATTERN
from models.induction import (
    AbClaimCreate,
    AbReleaseCreate,
    InductionOutcomeCreate,
    InductionPublic,
    MigratedReportCreate,
    ReportReceipt,
    SchoolReportCreate,
)
from workflows.induction import InductionRegistrationWorkflow
from workflows.payloads.common import Payload
from workflows.payloads.induction import (
    AbClaimInput,
    AbReleaseInput,
    InductionOutcomeInput,
    MigratedReportInput,
    SchoolReportInput,
)

router = APIRouter(prefix="/v1/inductions", tags=["inductions"])
Trn = Annotated[str, Path(pattern=TRN_PATTERN, description="teacher reference number (7 digits)")]


async def _recorded(
    engine: EngineDep,
    temporal: Client,
    task_queue: str,
    trn: str,
    update: Any,
    report: Payload,
) -> ReportReceipt:
    """Send `update` to the teacher's registration workflow (started by the first report);
    a closed induction's report is recorded (or refused) without one."""
    if closed := await _if_closed(engine, trn, report):
        return closed
    recorded = await temporal.execute_update_with_start_workflow(
        update,
        report,
        start_workflow_operation=inductions.start_operation(trn, task_queue=task_queue),
        id=commands.update_id(),
    )
    return inductions.receipt(recorded)


async def _if_closed(engine: EngineDep, trn: str, report: Payload) -> ReportReceipt | None:
    """The receipt of a report on a closed induction (recorded or refused), else None."""
    kind, reporter = inductions.reported_as(report)
    found = await run_in_threadpool(
        inductions.record_if_closed, engine, trn, kind, reporter, report
    )
    return None if found is None else inductions.receipt(found)


async def _update_held(
    engine: EngineDep,
    temporal: Client,
    trn: str,
    caller: Principal,
    update: Any,
    report: AbReleaseInput | InductionOutcomeInput,
    absent: Exception,
) -> ReportReceipt:
    """Send `update` from the AB of `report` (the caller's own organisation, else 403) to the
    running registration (`absent` when there is none)."""
    inductions.ensure_acts_for(caller, report.appropriate_body_id, "appropriate_body_id")
    if closed := await _if_closed(engine, trn, report):
        return closed
    handle = temporal.get_workflow_handle_for(
        InductionRegistrationWorkflow.run, inductions.workflow_id(trn)
    )
    try:
        recorded = await handle.execute_update(update, report, id=commands.update_id())
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        raise absent from None
    return inductions.receipt(recorded)


@router.post("/{trn}/school-reports", status_code=status.HTTP_201_CREATED)
async def report_induction(
    trn: Trn,
    body: SchoolReportCreate,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: School,
) -> ReportReceipt:
    """A school's report: stored as received and effective at once, provisionally (after the
    induction closed: recorded against it, with a discrepancy; it never reopens it)."""
    inductions.ensure_acts_for(caller, body.school_id, "school_id")
    report = SchoolReportInput(actor=caller.sub, **body.model_dump())
    update = InductionRegistrationWorkflow.school_report
    return await _recorded(engine, temporal, settings.task_queue, trn, update, report)


@router.post("/{trn}/ab-claims", status_code=status.HTTP_201_CREATED)
async def claim_induction(
    trn: Trn,
    body: AbClaimCreate,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: AppropriateBody,
) -> ReportReceipt:
    """An AB claims the teacher (409 naming the holder while another AB's claim is open, or
    naming the outcome once the induction is closed)."""
    inductions.ensure_acts_for(caller, body.appropriate_body_id, "appropriate_body_id")
    report = AbClaimInput(actor=caller.sub, **body.model_dump())
    update = InductionRegistrationWorkflow.ab_claim
    return await _recorded(engine, temporal, settings.task_queue, trn, update, report)


@router.post("/{trn}/ab-releases")
async def release_induction(
    trn: Trn,
    engine: EngineDep,
    temporal: TemporalDep,
    caller: AppropriateBody,
    body: Annotated[AbReleaseCreate | None, Body()] = None,
) -> ReportReceipt:
    """The AB holding the open claim ends it (the token's org unless the body names it)."""
    named = body.appropriate_body_id if body else None
    report = AbReleaseInput(actor=caller.sub, appropriate_body_id=named or caller.org or "")
    ab = report.appropriate_body_id
    absent = Conflict(f"appropriate body {ab} holds no open claim on teacher {trn}", allowed=[])
    update = InductionRegistrationWorkflow.ab_release
    return await _update_held(engine, temporal, trn, caller, update, report, absent)


@router.post("/{trn}/migrated-reports", status_code=status.HTTP_201_CREATED)
async def migrate_induction(
    trn: Trn,
    body: MigratedReportCreate,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: InductionMigrator,
) -> ReportReceipt:
    """Data from the older service: used only where neither school nor AB has reported
    (after the induction closed: recorded, and it changes nothing)."""
    report = MigratedReportInput(actor=caller.sub, **body.model_dump())
    update = InductionRegistrationWorkflow.migrated_report
    return await _recorded(engine, temporal, settings.task_queue, trn, update, report)


@router.get("/{trn}")
def get_induction(trn: Trn, session: SessionDep, caller: InductionReader) -> InductionPublic:
    """Effective values with source and confirmation, every report, every discrepancy."""
    return inductions.get(session, caller, trn)


@router.post("/{trn}/outcomes", status_code=status.HTTP_201_CREATED)
async def record_induction_outcome(
    trn: Trn,
    body: InductionOutcomeCreate,
    engine: EngineDep,
    temporal: TemporalDep,
    caller: AppropriateBody,
) -> ReportReceipt:
    """The AB holding the open induction records its outcome (the token's organisation):
    PASSED or FAILED closes it for good, RELEASED lets another AB claim. 403 from an AB
    that does not hold it; 409 once it is closed; 422 for a `completed_on` before the
    induction started or in the future. Nothing is written on a refusal."""
    ab = caller.org or ""
    report = InductionOutcomeInput(actor=caller.sub, appropriate_body_id=ab, **body.model_dump())
    absent = Forbidden(f"appropriate body {ab} does not hold the induction of teacher {trn}")
    update = InductionRegistrationWorkflow.record_outcome
    return await _update_held(engine, temporal, trn, caller, update, report, absent)
