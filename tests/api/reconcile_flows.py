"""Steps the reconcile scenarios share: end a workflow behind the database's back, scan, repair."""

import asyncio

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from api.services.reconcile import Finding, repair, scan
from models.event import AuditEntry


async def terminate(client: Client, workflow_id: str) -> str:
    """Terminate the running workflow (as an operator would); its run id."""
    handle = client.get_workflow_handle(workflow_id)
    run_id = (await handle.describe()).run_id
    await handle.terminate(reason="an operator, in the Temporal UI")
    return run_id


async def delete(client: Client, workflow_id: str) -> None:
    """Delete the workflow's history (running or not) and wait until it is gone."""
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        )
    )
    for _ in range(200):
        if await describe(client, workflow_id) is None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} was never deleted")


async def describe(client: Client, workflow_id: str) -> WorkflowExecutionDescription | None:
    """The latest run, or None when there is no history."""
    try:
        return await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def running_run(client: Client, workflow_id: str) -> str:
    """The run id of the workflow, which must be running."""
    described = await describe(client, workflow_id)
    assert described is not None
    assert described.status == WorkflowExecutionStatus.RUNNING
    return described.run_id


async def scan_until(db: Engine, client: Client, task_queue: str, count: int) -> list[Finding]:
    """Scan until `count` findings show (the dev server's visibility lags a moment)."""
    findings: list[Finding] = []
    for _ in range(100):
        findings = await scan(db, client, task_queue=task_queue)
        if len(findings) == count:
            return findings
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} finding(s), got {findings}")


async def repair_all(db: Engine, client: Client, task_queue: str, count: int) -> list[Finding]:
    """Scan (expecting `count` findings) and repair them all."""
    findings = await scan_until(db, client, task_queue, count)
    repaired = await repair(db, client, findings, task_queue=task_queue)
    assert all(finding.repaired for finding in repaired), [f.action for f in repaired]
    return repaired


async def audited(db: Engine, subject_id: str, action: str) -> AuditEntry:
    """The subject's one audit row of `action`, once written (by a workflow's activity)."""
    for _ in range(200):
        if found := audits(db, subject_id, action):
            [row] = found
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {action} audit row for {subject_id}")


def audits(db: Engine, subject_id: str, action: str) -> list[AuditEntry]:
    """The subject's audit rows of `action`, oldest first."""
    with Session(db) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.subject_id == subject_id, AuditEntry.action == action)
                .order_by(col(AuditEntry.id))
            ).all()
        )
