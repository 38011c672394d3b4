"""The daily commands: `sync`, `release`, `cases find`, `case show` (registered by cli.py)."""

import asyncio
from datetime import datetime
from typing import Annotated

import typer

from core.settings import get_settings
from domain.console import WaitingOn
from domain.outcome import OutcomeKind
from domain.sla import SlaStatus
from operator_cli.cases import CaseKindName, Execution
from operator_cli.errors import FriendlyGroup, check_code, choices, exits_without_teardown
from operator_cli.output import JsonOption, console, emit_json

cases_app = typer.Typer(cls=FriendlyGroup, help="Find cases (a Temporal visibility query).")
case_app = typer.Typer(cls=FriendlyGroup, help="One case: database, workflow, history.")

Json = Annotated[bool, JsonOption]
Template = Annotated[str | None, typer.Option(help="only this template's code")]
DryRun = Annotated[bool, typer.Option(help="report what would change; write none")]


def database_url() -> str:
    """DATABASE_URL, or a one-line bad-parameter error naming how to set it."""
    url = get_settings().database_url
    if not url:
        raise typer.BadParameter("set DATABASE_URL (make run prints the export line)")
    return url


@exits_without_teardown
def sync(template: Template = None, dry_run: DryRun = False, json: Json = False) -> None:
    """Run a check-list sync and wait for it, a bar per counter (exit 1: some failed)."""
    from operator_cli import sync as syncing

    check_code(template)
    raise typer.Exit(asyncio.run(syncing.run(template, dry_run, as_json=json)))


@exits_without_teardown
def release(
    ids: Annotated[
        str | None,
        typer.Option(
            "--ids",
            metavar="FILE",
            help="CSV of outcomes (- reads standard input): an id column, and kind or --kind",
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(**choices(OutcomeKind, "kind"), help="outcome kind"),
    ] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="FIELD=VALUE of GET /v1/outcome-releases/pending (provider_id, employer_id, "
            "candidate_id, uln, standard, cohort, component, q, from, to); repeat for several",
        ),
    ] = None,
    now: Annotated[bool, typer.Option("--now", help="release at once")] = False,
    at: Annotated[
        str | None, typer.Option(metavar="INSTANT", help="release then (RFC 3339, with a zone)")
    ] = None,
    actor: Annotated[str, typer.Option(help="who the audit names")] = "cli",
    dry_run: Annotated[bool, typer.Option(help="list what would be released")] = False,
    wait: Annotated[bool, typer.Option(help="follow the batch until it has settled")] = True,
    json: Json = False,
) -> None:
    """Release pending outcomes in bulk (a CSV of ids, or the pending-list filters)."""
    from datetime import UTC

    from operator_cli import release as releasing

    chosen = OutcomeKind(kind) if kind else None
    release_at = releasing.when(now, at, clock=datetime.now(UTC))
    url = database_url()
    if ids is not None:
        refs = releasing.read_csv(ids, chosen)
    else:
        filters = releasing.filters_of(chosen, filter_ or [])
        refs = releasing.with_engine(url, lambda engine: releasing.refs_pending(engine, filters))
    plan = releasing.Plan(refs, release_at)
    if dry_run:
        raise typer.Exit(releasing.dry_run(plan, as_json=json))
    raise typer.Exit(asyncio.run(releasing.run(url, plan, actor, wait=wait, as_json=json)))


Instant = Annotated[datetime | None, typer.Option(help="an instant with its zone")]


@cases_app.command("find")
@exits_without_teardown
def find(
    kind: Annotated[
        str | None, typer.Option(**choices(CaseKindName, "kind"), help="CaseKind")
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option(help="CaseStatus (repeat: any of them)")
    ] = None,
    execution: Annotated[
        str | None,
        typer.Option(**choices(Execution, "execution status"), help="ExecutionStatus"),
    ] = None,
    template: Annotated[str | None, typer.Option(help="TemplateCode")] = None,
    stage: Annotated[str | None, typer.Option(help="Stage")] = None,
    level: Annotated[int | None, typer.Option(min=1, help="ReviewLevel")] = None,
    applicant: Annotated[str | None, typer.Option(help="ApplicantId")] = None,
    provider: Annotated[str | None, typer.Option(help="ProviderId")] = None,
    candidate: Annotated[str | None, typer.Option(help="CandidateId")] = None,
    sla_definition: Annotated[str | None, typer.Option(help="SlaDefinition")] = None,
    waiting_on: Annotated[
        str | None,
        typer.Option(**choices(WaitingOn, "party"), help="WaitingOn: who acts next"),
    ] = None,
    sla_status: Annotated[
        str | None, typer.Option(**choices(SlaStatus, "SLA status"), help="SlaStatus")
    ] = None,
    breached: Annotated[bool | None, typer.Option("--breached/--not-breached")] = None,
    release_before: Instant = None,
    release_after: Instant = None,
    due_before: Instant = None,
    due_after: Instant = None,
    waiting_since_before: Instant = None,
    started_after: Instant = None,
    started_before: Instant = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="at most this many")] = 50,
    json: Json = False,
) -> None:
    """Workflows whose search attributes match every option (newest first)."""
    from operator_cli import cases

    filters = cases.Filters(
        kind=kind,
        status=[value.upper() for value in status or []],
        execution=execution,
        template=template,
        stage=stage,
        level=level,
        applicant=applicant,
        provider=provider,
        candidate=candidate,
        sla_definition=sla_definition,
        waiting_on=waiting_on,
        sla_status=sla_status,
        breached=breached,
        release_before=release_before,
        release_after=release_after,
        due_before=due_before,
        due_after=due_after,
        waiting_since_before=waiting_since_before,
        started_after=started_after,
        started_before=started_before,
    )
    where = cases.query(filters)
    found = asyncio.run(cases.find(where, limit=limit))
    if json:
        emit_json({"query": where, "items": found})
        return
    console().print(f"query: {where or '(every workflow)'}")
    for row in found:
        typer.echo(cases.row_line(row))
    console().print(f"{len(found)} workflow(s)")


@case_app.command("show")
@exits_without_teardown
def show(
    case_id: Annotated[str, typer.Argument(metavar="ID", help="workflow id, or a case's id")],
    json: Json = False,
) -> None:
    """The case in PostgreSQL, its workflow in Temporal, whether they agree, its history."""
    from operator_cli import case_show

    shown = asyncio.run(case_show.show_at(database_url(), case_id))
    if json:
        emit_json(shown)
        return
    for line in case_show.lines(shown):
        typer.echo(line)
