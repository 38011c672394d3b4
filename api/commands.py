"""Workflow commands that a retried Idempotency-Key cannot run twice.

Inside a keyed request, the update id and the id of anything the request creates derive
from the key, so a retry after a crash (of the API or the worker) is the same command to
Temporal, which answers with the first outcome instead of running it again.
"""

import uuid
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.idempotency import current_claim

R = TypeVar("R")


def update_id(default: str | None = None, *, part: str = "") -> str | None:
    """The key's update id in a keyed request (`part` tells several apart), else `default`."""
    claim = current_claim.get()
    if claim is None:
        return default
    return f"{claim.command_id}-{part}" if part else claim.command_id


def new_id() -> str:
    """The id of what the request creates: the key's in a keyed request, else a new UUID."""
    claim = current_claim.get()
    return claim.entity_id if claim else str(uuid.uuid4())


async def earlier_outcome(
    handle: WorkflowHandle[Any, Any], result_type: type[R], *, part: str = ""
) -> R | None:
    """What the key's update answered, when an earlier attempt sent it (None otherwise).

    Routes that check the database before they send an update ask this first: after a
    crash, the first attempt's change makes those checks refuse, yet the retry must get
    the first answer. A refusal of the first attempt is raised again, as it was.
    """
    claimed = update_id(part=part)
    if claimed is None:
        return None
    try:
        outcome: R = await handle.get_update_handle(claimed, result_type=result_type).result()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return outcome
