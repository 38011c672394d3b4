"""Starting SLA instances and telling them about the candidate (from the API side)."""

import asyncio
import contextlib

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.settings import critical_queue
from models.sla import SlaInstance
from workflows import sla_start
from workflows.payloads.sla import StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

ELEMENT_SLA = "element_scheduled_to_outcome_release"
EPA_SLA = "candidate_time_in_epa"


async def start_sla(client: Client, start: StartSlaInput, *, task_queue: str) -> None:
    """Start timing `start.subject` (once: a subject already timed is left as it is) on the
    time-critical queue beside `task_queue` (decision 0091)."""
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            SlaWorkflow.run,
            start,
            id=sla_workflow_id(start.definition, start.subject),
            task_queue=critical_queue(task_queue),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=sla_start.search_attributes(start),
            static_summary=sla_start.summary(start),
        )


def running_slas(engine: Engine, candidate_id: str) -> list[str]:
    """Workflow ids of the candidate's SLAs that have not stopped."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(SlaInstance.id).where(
                    SlaInstance.candidate_id == candidate_id,
                    col(SlaInstance.stopped_at).is_(None),
                )
            ).all()
        )


async def catch_up_slas(client: Client, workflow_ids: list[str]) -> None:
    """Ask each SLA to pause or resume as its candidate's stored status says (idempotent)."""
    gate = asyncio.Semaphore(16)

    async def tell(workflow_id: str) -> None:
        async with gate:
            handle = client.get_workflow_handle_for(SlaWorkflow.run, workflow_id)
            try:
                await handle.signal(SlaWorkflow.candidate_changed)
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise  # Temporal is down: the caller answers 503, and a retry catches up
                # it stopped meanwhile: nothing left to pause

    await asyncio.gather(*(tell(workflow_id) for workflow_id in workflow_ids))
