"""Make a Temporal namespace ready for the service: it exists and every search attribute is
registered and already usable in visibility queries (a production server caches both)."""

import asyncio
import time
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings
from core.temporal import SEARCH_ATTRIBUTES, connect, register_search_attributes

RETENTION = timedelta(days=30)


async def ensure_namespace(client: Client, retention: timedelta = RETENTION) -> bool:
    """Register the client's namespace when the server lacks it; True when it was added."""
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=client.namespace)
        )
        return False
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
    period = Duration(seconds=int(retention.total_seconds()))
    try:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=client.namespace, workflow_execution_retention_period=period
            )
        )
    except RPCError as clash:
        if clash.status != RPCStatusCode.ALREADY_EXISTS:
            raise
        return False
    return True


def probe_query() -> str:
    """A visibility query naming every custom search attribute (refused until all are known)."""
    literals = {"INT": "-1", "BOOL": "true", "DATETIME": "'2000-01-01T00:00:00Z'"}
    terms = []
    for key in SEARCH_ATTRIBUTES:
        literal = literals.get(key.indexed_value_type.name, "'-'")
        terms.append(f"{key.name} = {literal}")
    return " OR ".join(terms)


async def prepare_temporal(settings: Settings, target: str, deadline_s: float) -> None:
    """Wait for Temporal, ensure the namespace and the search attributes, and wait until a
    query naming each of them is accepted (so the first submit after setup finds them)."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            client = await connect(settings, target=target)
            await ensure_namespace(client)
            await register_search_attributes(client)
            await client.count_workflows(probe_query())
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
