"""`reconcile --json`: each finding as data."""

from api.services.reconcile import Finding


def finding_data(finding: Finding) -> dict[str, object]:
    """What disagrees, both states, what was (or would be) done."""
    return {
        "problem": finding.problem.value,
        "kind": finding.label,
        "id": finding.business_id,
        "workflow_id": finding.workflow_id,
        "db_state": finding.db_state,
        "workflow_state": finding.workflow_state,
        "run_id": finding.run_id,
        "action": finding.action or None,
        "repaired": finding.repaired,
    }
