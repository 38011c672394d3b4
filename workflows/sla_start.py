"""How clients start SlaWorkflow: what an operator finds and reads before its first task."""

from typing import Any

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from core import temporal as keys
from workflows.payloads.sla import StartSlaInput


def search_attributes(start: StartSlaInput) -> TypedSearchAttributes:
    """The instance's kind, definition and candidate, and its clock waiting on time."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(keys.CASE_KIND, "sla"),
        SearchAttributePair(keys.SLA_DEFINITION, start.definition),
        SearchAttributePair(keys.SLA_STATUS, "PAUSED" if start.start_paused else "RUNNING"),
        SearchAttributePair(keys.BREACHED, False),
    ]
    if start.candidate_id is not None:
        pairs.append(SearchAttributePair(keys.CANDIDATE_ID, start.candidate_id))
    return TypedSearchAttributes(pairs)


def summary(start: StartSlaInput) -> str:
    """The workflow's static summary in the Temporal UI."""
    candidate = f" · candidate {start.candidate_id}" if start.candidate_id else ""
    return f"SLA {start.definition} · timing {start.subject}{candidate}"
