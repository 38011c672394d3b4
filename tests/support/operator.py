"""An operator's Temporal client (its own identity) and what a cancel left behind."""

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter

from models.event import AuditEntry, OutboxEvent

OPERATOR = "ops-jane@casework"
T = TypeVar("T")


async def operator_client(client: Client, identity: str = OPERATOR) -> Client:
    """A second client on the same server, as the Temporal UI or CLI of `identity` would be."""
    return await Client.connect(
        client.service_client.config.target_host,
        namespace=client.namespace,
        identity=identity,
        data_converter=pydantic_data_converter,
    )


async def status_of(handle: WorkflowHandle[Any, Any]) -> WorkflowExecutionStatus:
    """The workflow's execution status as Temporal shows it (read raw: the time-skipping
    server's datetime search attributes do not decode)."""
    described = await handle._client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=handle._client.namespace,
            execution=WorkflowExecution(workflow_id=handle.id),
        )
    )
    return WorkflowExecutionStatus(described.workflow_execution_info.status)


def audit_rows(engine: Engine, subject_id: str, action: str) -> list[AuditEntry]:
    """The audit rows of `action` on `subject_id`, oldest first."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.subject_id == subject_id, AuditEntry.action == action)
                .order_by(col(AuditEntry.id))
            ).all()
        )


def events_of(engine: Engine, event_type: str) -> list[OutboxEvent]:
    """The outbox events of `event_type`, in feed order."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(OutboxEvent)
                .where(OutboxEvent.type == event_type)
                .order_by(col(OutboxEvent.id))
            ).all()
        )


async def eventually(read: Callable[[], T], *, attempts: int = 200) -> T:
    """`read()` once it is truthy: a workflow that goes on records its cancel a bit later."""
    for _ in range(attempts):
        if value := read():
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"{read} never held")
