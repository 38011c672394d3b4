"""Operator commands: run the stack, set up a deployment, mint tokens."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from core.settings import get_settings

app = typer.Typer(help="Casework operator commands.", no_args_is_help=True)


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="the user id (token subject)")],
    role: Annotated[list[str], typer.Option(help="a role; repeat for several")],
    org: Annotated[str | None, typer.Option(help="organisation id of an external user")] = None,
    name: Annotated[str, typer.Option(help="display name")] = "",
    hours: Annotated[int, typer.Option(help="validity in hours")] = 12,
) -> None:
    """Print a bearer token signed with AUTH_SECRET."""
    from core.auth import mint_token
    from domain.access import Role

    settings = get_settings()
    if not settings.auth_secret:
        raise typer.BadParameter("set AUTH_SECRET first (make run prints the one it uses)")
    unknown = [r for r in role if r not in {known.value for known in Role}]
    if unknown:
        raise typer.BadParameter(f"unknown role(s): {', '.join(unknown)}", param_hint="--role")
    typer.echo(
        mint_token(
            secret=settings.auth_secret,
            sub=sub,
            roles=role,
            org=org,
            name=name,
            now=datetime.now(UTC),
            ttl=timedelta(hours=hours),
        )
    )


@app.command()
def run() -> None:
    """Run the whole stack (embedded PostgreSQL, Temporal dev server, worker, API)."""
    from core.stack import run as run_stack

    raise typer.Exit(run_stack(get_settings()))


@app.command()
def setup(wait_s: Annotated[int, typer.Option(help="how long to wait for Temporal")] = 120) -> None:
    """Migrate the database and register search attributes (for deployments)."""
    from core.migrate import upgrade
    from core.stack import prepare_temporal

    settings = get_settings()
    if not settings.database_url:
        raise typer.BadParameter("set DATABASE_URL")
    upgrade(settings.database_url)
    asyncio.run(prepare_temporal(settings, settings.temporal_target(), deadline_s=wait_s))
    typer.echo("database migrated; search attributes registered")


if __name__ == "__main__":
    app()
