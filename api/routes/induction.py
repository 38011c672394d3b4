"""Inductions: school reports, AB claims and releases, migrated data, and the teacher's view."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, status
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api import commands
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.roles import AppropriateBody, InductionMigrator, InductionReader, School
from api.services import induction as inductions
from domain.errors import Conflict
from domain.induction import TRN_PATTERN
from models.induction import (
    AbClaimCreate,
    AbReleaseCreate,
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
    MigratedReportInput,
    SchoolReportInput,
)

router = APIRouter(prefix="/v1/inductions", tags=["inductions"])
Trn = Annotated[str, Path(pattern=TRN_PATTERN, description="teacher reference number (7 digits)")]


async def _recorded(
    temporal: Client, task_queue: str, trn: str, update: Any, report: Payload
) -> ReportReceipt:
    """Send `update` to the teacher's registration workflow (started by the first report)."""
    recorded = await temporal.execute_update_with_start_workflow(
        update,
        report,
        start_workflow_operation=inductions.start_operation(trn, task_queue=task_queue),
        id=commands.update_id(),
    )
    return inductions.receipt(recorded)


@router.post("/{trn}/school-reports", status_code=status.HTTP_201_CREATED)
async def report_induction(
    trn: Trn, body: SchoolReportCreate, temporal: TemporalDep, settings: SettingsDep, caller: School
) -> ReportReceipt:
    """A school's report: stored as received and effective at once, provisionally."""
    inductions.ensure_acts_for(caller, body.school_id, "school_id")
    report = SchoolReportInput(actor=caller.sub, **body.model_dump())
    update = InductionRegistrationWorkflow.school_report
    return await _recorded(temporal, settings.task_queue, trn, update, report)


@router.post("/{trn}/ab-claims", status_code=status.HTTP_201_CREATED)
async def claim_induction(
    trn: Trn,
    body: AbClaimCreate,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: AppropriateBody,
) -> ReportReceipt:
    """An AB claims the teacher (409 naming the holder while another AB's claim is open)."""
    inductions.ensure_acts_for(caller, body.appropriate_body_id, "appropriate_body_id")
    report = AbClaimInput(actor=caller.sub, **body.model_dump())
    update = InductionRegistrationWorkflow.ab_claim
    return await _recorded(temporal, settings.task_queue, trn, update, report)


@router.post("/{trn}/ab-releases")
async def release_induction(
    trn: Trn,
    temporal: TemporalDep,
    caller: AppropriateBody,
    body: Annotated[AbReleaseCreate | None, Body()] = None,
) -> ReportReceipt:
    """The AB holding the open claim ends it (the token's org unless the body names it)."""
    appropriate_body_id = body.appropriate_body_id if body and body.appropriate_body_id else None
    appropriate_body_id = appropriate_body_id or caller.org or ""
    inductions.ensure_acts_for(caller, appropriate_body_id, "appropriate_body_id")
    handle = temporal.get_workflow_handle_for(
        InductionRegistrationWorkflow.run, inductions.workflow_id(trn)
    )
    try:
        recorded = await handle.execute_update(
            InductionRegistrationWorkflow.ab_release,
            AbReleaseInput(actor=caller.sub, appropriate_body_id=appropriate_body_id),
            id=commands.update_id(),
        )
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        raise Conflict(
            f"appropriate body {appropriate_body_id} holds no open claim on teacher {trn}",
            allowed=[],
        ) from None
    return inductions.receipt(recorded)


@router.post("/{trn}/migrated-reports", status_code=status.HTTP_201_CREATED)
async def migrate_induction(
    trn: Trn,
    body: MigratedReportCreate,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: InductionMigrator,
) -> ReportReceipt:
    """Data from the older service: used only where neither school nor AB has reported."""
    report = MigratedReportInput(actor=caller.sub, **body.model_dump())
    update = InductionRegistrationWorkflow.migrated_report
    return await _recorded(temporal, settings.task_queue, trn, update, report)


@router.get("/{trn}")
def get_induction(trn: Trn, session: SessionDep, caller: InductionReader) -> InductionPublic:
    """Effective values with source and confirmation, every report, every discrepancy."""
    return inductions.get(session, caller, trn)
