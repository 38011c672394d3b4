"""`cli.py reconcile`: compare PostgreSQL with Temporal and, when asked, bring them together.

Per workflow type: one visibility listing of the running workflows on the task queue and
one query of the open rows, compared as sets; only the differences are described one by
one (to confirm them). See decision 0075 for what is done to each kind of finding.
"""

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.services.reconcile_cases import (
    ApplicationCases,
    CaseKind,
    CaseRow,
    InductionCases,
    Standing,
    SyncCases,
)
from api.services.reconcile_io import describe, gather_bounded, read, running_on, write
from api.services.reconcile_outcomes import BatchCases, OutcomeCases, SlaCases
from api.services.sla import catch_up_slas
from core.settings import queue_for
from domain.errors import Refusal
from models.event import AuditEntry, Change
from models.sla import slas_out_of_step
from workflows.payloads.resumption import RECONCILE, Resumption, resumption_key

# Every kind of case with a workflow, in the order the report lists them.
SLAS = SlaCases()
KINDS: tuple[CaseKind, ...] = (
    ApplicationCases(),
    OutcomeCases(),
    BatchCases(),
    SLAS,
    InductionCases(),
    SyncCases(),
)

NOT_FOUND = "NOT_FOUND"  # no history: deleted, or never started
# How long a repair waits for a restarted run to load its case (then it reports and moves on).
RESUME_POLL_S = 0.1
RESUME_POLLS = 100


class Problem(StrEnum):
    """What disagrees."""

    NOT_RUNNING = "open case, workflow not running"
    CASE_CLOSED = "workflow running, case closed"
    NO_CASE = "workflow running, no case in the database"
    OUT_OF_STEP = "SLA running, out of step with its candidate's status"


@dataclass(frozen=True)
class Finding:
    """One disagreement, and (after a repair) what was done about it."""

    problem: Problem
    kind: CaseKind = dataclasses.field(repr=False, compare=False)
    label: str
    business_id: str
    workflow_id: str
    db_state: str
    workflow_state: str
    run_id: str | None  # the run found: the ended one, or the one running
    row: CaseRow | None = dataclasses.field(default=None, repr=False, compare=False)
    action: str = ""  # what repair did; empty until then
    repaired: bool = False

    def line(self) -> str:
        """One line of the report."""
        todo = self.action or f"to repair: {_remedy(self)}"
        return (
            f"{self.label:<14} {self.business_id:<40} db {self.db_state:<17} "
            f"workflow {self.workflow_state:<11} -> {todo}"
        )


LEFT = "left alone: nothing in the database to decide from (for a person to look at)"


def _remedy(finding: Finding) -> str:
    if finding.problem == Problem.NOT_RUNNING:
        return "restart from the database (same id)"
    if finding.problem == Problem.CASE_CLOSED:
        return finding.kind.ending
    if finding.problem == Problem.OUT_OF_STEP:
        return "signal candidate_changed (it pauses or resumes as the status says)"
    return LEFT


async def scan(
    engine: Engine,
    client: Client,
    *,
    task_queue: str,
    settled_before: datetime | None = None,
) -> list[Finding]:
    """Every disagreement between the open rows and the running workflows on `task_queue`
    (rows changed, or workflows started, after `settled_before` are left to settle)."""
    if "'" in task_queue or "\\" in task_queue:
        raise ValueError(f"not a task queue name: {task_queue!r}")
    findings: list[Finding] = []
    for kind in KINDS:
        findings += await _scan_kind(engine, client, kind, task_queue, settled_before)
    restarting = {f.workflow_id for f in findings}
    return findings + [f for f in await _out_of_step(engine) if f.workflow_id not in restarting]


async def _out_of_step(engine: Engine) -> list[Finding]:
    """Running SLAs whose pause/resume log disagrees with their candidate's stored status
    (the signal after a status change was lost in a crash): decision 0076."""
    kind = SLAS

    def rows(session: Session) -> list[CaseRow]:
        return kind.rows_of(session, slas_out_of_step(session))

    return [
        Finding(
            Problem.OUT_OF_STEP,
            kind,
            row.label,
            row.business_id,
            row.workflow_id,
            row.state,
            "RUNNING",
            None,
            row,
        )
        for row in await read(engine, rows)
    ]


async def _scan_kind(
    engine: Engine,
    client: Client,
    kind: CaseKind,
    task_queue: str,
    settled_before: datetime | None,
) -> list[Finding]:
    running = await running_on(client, kind.workflow_type, task_queue)  # before the rows
    queue = queue_for(kind.workflow_type, task_queue)  # time-critical kinds: decision 0091
    if queue != task_queue:  # runs started before it stay where they were started
        running |= await running_on(client, kind.workflow_type, queue)
    open_rows = await read(engine, kind.open_rows)
    open_ids = {row.workflow_id for row in open_rows}
    missing = [
        row
        for row in open_rows
        if row.workflow_id not in running and _settled(row.since, settled_before)
    ]
    strays = [
        wid
        for wid, execution in running.items()
        if wid not in open_ids and _settled(execution.start_time, settled_before)
    ]
    found = [
        finding
        for row, described in zip(
            missing,
            await gather_bounded(describe(client, row.workflow_id) for row in missing),
            strict=True,
        )
        if (finding := _not_running(kind, row, described)) is not None
    ]
    rows = {row.workflow_id: row for row in await read(engine, lambda s: kind.rows_of(s, strays))}
    for wid in strays:
        if (stray := _still_running(kind, wid, running[wid].run_id, rows.get(wid))) is not None:
            found.append(stray)
    return found


async def check(engine: Engine, client: Client, workflow_id: str) -> Finding | None:
    """The finding about one workflow id, if any (by describe: no visibility needed)."""
    kind = next((kind for kind in KINDS if kind.owns(workflow_id)), None)
    if kind is None:
        raise ValueError(f"no case kind has workflow ids like {workflow_id!r}")
    rows = await read(engine, lambda s: kind.rows_of(s, [workflow_id]))
    row = rows[0] if rows else None
    described = await describe(client, workflow_id)
    if row is not None and row.standing == Standing.OPEN:
        return _not_running(kind, row, described)
    if described is not None and described.status == WorkflowExecutionStatus.RUNNING:
        return _still_running(kind, workflow_id, described.run_id, row)
    return None


def _still_running(
    kind: CaseKind, workflow_id: str, run_id: str | None, row: CaseRow | None
) -> Finding | None:
    """A finding about a running workflow whose row is closed or absent."""
    if row is not None and row.standing != Standing.CLOSED:
        return None  # a draft's workflow waiting for its first submit, or opened meanwhile
    label, business_id = kind.business_id(workflow_id)
    return Finding(
        Problem.CASE_CLOSED if row else Problem.NO_CASE,
        kind,
        row.label if row else label,
        row.business_id if row else business_id,
        workflow_id,
        row.state if row else "absent",
        "RUNNING",
        run_id,
        row,
    )


def _not_running(
    kind: CaseKind, row: CaseRow, described: WorkflowExecution | None
) -> Finding | None:
    """A finding unless the workflow runs after all (started after the listing)."""
    if described is not None and described.status == WorkflowExecutionStatus.RUNNING:
        return None
    state = described.status.name if described and described.status else NOT_FOUND
    run_id = described.run_id if described else None
    return Finding(
        Problem.NOT_RUNNING,
        kind,
        row.label,
        row.business_id,
        row.workflow_id,
        row.state,
        state,
        run_id,
        row,
    )


async def repair(
    engine: Engine, client: Client, findings: list[Finding], *, task_queue: str
) -> list[Finding]:
    """Restart missing workflows from their rows (same id); end those of closed cases."""
    return await gather_bounded(
        _repair(engine, client, finding, task_queue) for finding in findings
    )


async def _repair(engine: Engine, client: Client, finding: Finding, task_queue: str) -> Finding:
    try:
        if finding.problem == Problem.NOT_RUNNING:
            action = await _restart(engine, client, finding, task_queue)
        elif finding.problem == Problem.CASE_CLOSED:
            action = await _end(engine, client, finding)
        elif finding.problem == Problem.OUT_OF_STEP:
            await catch_up_slas(client, [finding.workflow_id])
            action = "signalled candidate_changed"
        else:
            return dataclasses.replace(finding, action=LEFT)
    except (RPCError, Refusal) as error:
        return dataclasses.replace(finding, action=f"FAILED: {type(error).__name__}: {error}")
    return dataclasses.replace(finding, action=action, repaired=True)


async def _restart(engine: Engine, client: Client, finding: Finding, task_queue: str) -> str:
    """Start the workflow again (same id) from the row, unless something changed meanwhile."""
    described = await describe(client, finding.workflow_id)
    if described is not None and described.status == WorkflowExecutionStatus.RUNNING:
        return "nothing: running again meanwhile"
    rows = await read(engine, lambda s: finding.kind.rows_of(s, [finding.workflow_id]))
    if not rows or rows[0].standing != Standing.OPEN:
        return "nothing: the case is no longer open"
    resumed = Resumption(found=finding.workflow_state, actor=RECONCILE)
    spec = await read(engine, lambda s: finding.kind.start_spec(s, rows[0], resumed))
    try:
        handle = await client.start_workflow(
            spec.workflow_type,
            spec.arg,
            id=finding.workflow_id,
            task_queue=queue_for(spec.workflow_type, task_queue),
            # Past REJECT_DUPLICATE on purpose: the row says the case is open (decision 0075).
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=spec.search_attributes,
            static_summary=spec.summary,
            start_signal=spec.start_signal,
        )
    except WorkflowAlreadyStartedError:
        return "nothing: started again meanwhile"
    signal = f", with {spec.start_signal}" if spec.start_signal else ""
    run_id = handle.result_run_id
    if not await _resumed(engine, finding.workflow_id, run_id):
        return f"restarted (run {run_id}{signal}); no worker has taken it up yet"
    return f"restarted (run {run_id}{signal}), resumed from the database"


async def _resumed(engine: Engine, workflow_id: str, run_id: str | None) -> bool:
    """Wait (bounded) for the new run's first activity: its audit row says it has loaded."""
    query = select(AuditEntry.id).where(
        AuditEntry.dedupe_key == resumption_key(workflow_id, run_id)
    )
    for _ in range(RESUME_POLLS):
        if await read(engine, lambda s: s.exec(query).first()) is not None:
            return True
        await asyncio.sleep(RESUME_POLL_S)
    return False


async def _end(engine: Engine, client: Client, finding: Finding) -> str:
    """Audit, then signal or terminate exactly the run found (gone meanwhile: nothing)."""
    row, run_id = finding.row, finding.run_id
    assert row is not None
    assert run_id is not None
    end = await read(engine, lambda s: finding.kind.end_spec(s, row))
    await write(engine, lambda s: _audit_end(s, finding, end.action))
    handle = client.get_workflow_handle(finding.workflow_id, run_id=run_id)
    try:
        if end.signal is not None:
            await handle.signal(end.signal, *([end.arg] if end.arg is not None else []))
        else:
            await handle.terminate(
                reason=f"reconcile: the {row.label} is {row.state} in the database"
            )
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return "nothing: it ended meanwhile"
    return "signalled" if end.signal else "terminated"


def _audit_end(session: Session, finding: Finding, action: str) -> None:
    """One audit row per run ended (a second reconcile of the same run writes nothing)."""
    row = finding.row
    assert row is not None
    key = f"reconcile:{finding.workflow_id}:{finding.run_id}:ended"
    at = datetime.now(UTC)
    Change(row.subject_kind, row.subject_id, "workflow_ended", RECONCILE, at, key).audit(
        session,
        {
            "workflow_id": finding.workflow_id,
            "run_id": finding.run_id,
            "db_state": row.state,
            "done": action,
        },
    )


def summary(findings: list[Finding], *, repaired: bool) -> str:
    """The last line of the report."""
    if not findings:
        return "nothing to reconcile: PostgreSQL and Temporal agree"
    if not repaired:
        return f"{len(findings)} finding(s); run with --repair to repair them"
    fixed = sum(f.repaired for f in findings)
    return f"{len(findings)} finding(s): {fixed} repaired, {len(findings) - fixed} left"


def _settled(at: datetime | None, settled_before: datetime | None) -> bool:
    return settled_before is None or at is None or at <= settled_before
