"""`cli.py cases find` (a visibility query from plain options) and `cli.py case show ID`."""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from operator_cli.cases import Filters, query
from tests.api.reconcile_flows import terminate
from tests.api.review_flows import submitted_case
from tests.cli.conftest import Cli
from tests.support.tokens import bearer

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("filters", "clause"),
    [
        (Filters(kind="application"), "CaseKind = 'application'"),
        (Filters(status=["SUBMITTED", "IN_QA"]), "CaseStatus IN ('SUBMITTED', 'IN_QA')"),
        (Filters(execution="Running"), "ExecutionStatus = 'Running'"),
        (Filters(template="qts"), "TemplateCode = 'qts'"),
        (Filters(stage="assessment"), "Stage = 'assessment'"),
        (Filters(level=2), "ReviewLevel = 2"),
        (Filters(applicant="alice"), "ApplicantId = 'alice'"),
        (Filters(provider="p-1"), "ProviderId = 'p-1'"),
        (Filters(candidate="c-1"), "CandidateId = 'c-1'"),
        (Filters(sla_definition="result-release"), "SlaDefinition = 'result-release'"),
        (Filters(waiting_on="assigner"), "WaitingOn = 'assigner'"),
        (Filters(sla_status="BREACHED"), "SlaStatus = 'BREACHED'"),
        (Filters(breached=True), "Breached = true"),
        (Filters(release_before=AT), "ReleaseAt < '2026-12-01T09:00:00+00:00'"),
        (Filters(release_after=AT), "ReleaseAt >= '2026-12-01T09:00:00+00:00'"),
        (Filters(due_before=AT), "DueAt < '2026-12-01T09:00:00+00:00'"),
        (Filters(due_after=AT), "DueAt >= '2026-12-01T09:00:00+00:00'"),
        (Filters(waiting_since_before=AT), "WaitingSince < '2026-12-01T09:00:00+00:00'"),
        (Filters(started_after=AT), "StartTime >= '2026-12-01T09:00:00+00:00'"),
        (Filters(started_before=AT), "StartTime < '2026-12-01T09:00:00+00:00'"),
    ],
)
def test_each_option_is_one_clause(filters: Filters, clause: str) -> None:
    assert query(filters) == clause


def test_options_are_joined_with_and() -> None:
    both = Filters(kind="result", provider="p-1", breached=False)

    assert query(both) == "CaseKind = 'result' AND ProviderId = 'p-1' AND Breached = false"
    assert query(Filters()) == ""


async def _found(cli: Cli, workflow_id: str, *args: str) -> dict[str, Any] | None:
    """The workflow's row in `cases find ARGS --json` (visibility lags a moment)."""
    for _ in range(100):
        result = await cli("cases", "find", *args, "--json")
        assert result.exit_code == 0, result.output
        rows = [r for r in json.loads(result.stdout)["items"] if r["workflow_id"] == workflow_id]
        if rows:
            found: dict[str, Any] = rows[0]
            return found
        await asyncio.sleep(0.1)
    return None


async def test_find_lists_the_cases_matching_every_option(api: httpx.AsyncClient, cli: Cli) -> None:
    applicant = f"alice-{id(api)}"
    application_id = await submitted_case(api, bearer(applicant, "applicant"))
    workflow_id = f"application-{application_id}"

    row = await _found(cli, workflow_id, "--kind", "application", "--applicant", applicant)
    waiting = await _found(cli, workflow_id, "--applicant", applicant, "--waiting-on", "assigner")
    text = await cli("cases", "find", "--applicant", applicant, "--status", "submitted")
    other = await cli("cases", "find", "--applicant", f"{applicant}-not", "--json")

    assert row is not None
    assert (row["case_kind"], row["execution"]) == ("application", "RUNNING")
    assert "SUBMITTED" in row["case_status"]
    assert waiting is not None  # nobody holds its level yet
    assert waiting["search_attributes"]["WaitingOn"] == "assigner"
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[0].split()[:2] == [workflow_id, "RUNNING"]
    assert f"query: ApplicantId = '{applicant}' AND CaseStatus IN ('SUBMITTED')" in text.stderr
    assert json.loads(other.stdout)["items"] == []


async def test_show_gives_the_row_the_workflow_and_the_history(
    api: httpx.AsyncClient, cli: Cli, dev_env: WorkflowEnvironment
) -> None:
    application_id = await submitted_case(api, bearer("alice", "applicant"))
    workflow_id = f"application-{application_id}"

    by_workflow = await cli("case", "show", workflow_id, "--json")
    by_id = await cli("case", "show", application_id, "--json")
    text = await cli("case", "show", workflow_id)
    await terminate(dev_env.client, workflow_id)
    ended = await cli("case", "show", workflow_id)

    assert by_workflow.exit_code == 0, by_workflow.output
    shown = json.loads(by_workflow.stdout)
    assert json.loads(by_id.stdout)["workflow_id"] == workflow_id
    assert (shown["database"]["state"], shown["database"]["standing"]) == ("SUBMITTED", "open")
    assert shown["workflow"]["type"] == "ApplicationReviewWorkflow"
    assert shown["workflow"]["status"] == "RUNNING"
    assert shown["workflow"]["search_attributes"]["CaseKind"] == "application"
    assert shown["agreement"] == "PostgreSQL and Temporal agree"
    assert "assigner" in shown["workflow"]["current_details"]  # who must act next
    assert shown["history"]["updates"] == {"submit": 1}
    assert shown["history"]["activities"]
    lines = text.stdout.splitlines()
    assert lines[0] == f"case {workflow_id}"
    assert lines[1].startswith(f"database: application {application_id} SUBMITTED (open")
    assert any(line.startswith("history updates: submit x1") for line in lines)
    assert ended.exit_code == 0, ended.output
    assert "workflow: ApplicationReviewWorkflow TERMINATED" in ended.stdout
    assert "to repair: restart from the database (same id)" in ended.stdout
