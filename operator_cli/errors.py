"""One-line errors with exit codes instead of tracebacks (decision 0086).

0 done; 1 the command ran and reports failures or findings; 2 bad input or a refusal
(nothing changed); 3 a dependency (PostgreSQL, Temporal) did not answer.
"""

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, ParamSpec

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

BAD_INPUT = 2
UNREACHABLE = 3
P = ParamSpec("P")


@dataclass(frozen=True)
class Failure:
    """What an operator reads, and the exit code scripts read."""

    code: int
    message: str


def _temporal(error: BaseException) -> Failure | None:
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.service import RPCError, RPCStatusCode

    from core.temporal import unreachable

    if isinstance(error, RuntimeError) and str(error).startswith("Failed client connect"):
        return Failure(UNREACHABLE, _temporal_down(error))
    if isinstance(error, WorkflowUpdateFailedError):
        cause = error.cause
        return Failure(BAD_INPUT, f"refused: {getattr(cause, 'message', None) or cause}")
    if not isinstance(error, RPCError):
        return None
    if unreachable(error):
        return Failure(UNREACHABLE, _temporal_down(error))
    if error.status in (
        RPCStatusCode.INVALID_ARGUMENT,
        RPCStatusCode.NOT_FOUND,
        RPCStatusCode.ALREADY_EXISTS,
        RPCStatusCode.FAILED_PRECONDITION,
    ):
        hint = (
            " (this namespace lacks it: run `cli.py setup`)"
            if "invalid search attribute" in str(error)
            else ""
        )
        return Failure(BAD_INPUT, f"Temporal refused it: {_first_line(error)}{hint}")
    return Failure(UNREACHABLE, f"Temporal failed: {_first_line(error)}")


def _temporal_down(error: BaseException) -> str:
    from core.settings import get_settings

    text = str(error)
    reason = "connection refused" if "refused" in text.lower() else _first_line(error)[:160]
    return (
        f"Temporal at {get_settings().temporal_target()} is unreachable ({reason}); "
        "start the stack (make run) or set TEMPORAL_ADDRESS"
    )


def _database(error: BaseException) -> Failure | None:
    import psycopg
    from sqlalchemy import exc

    if isinstance(error, exc.ArgumentError | exc.NoSuchModuleError):
        return Failure(BAD_INPUT, f"DATABASE_URL is not a database URL: {_first_line(error)}")
    if isinstance(error, exc.OperationalError | exc.InterfaceError | psycopg.OperationalError):
        reason = _first_line(getattr(error, "orig", None) or error)
        return Failure(UNREACHABLE, f"PostgreSQL is unreachable ({reason}); check DATABASE_URL")
    return None


def explain(error: BaseException) -> Failure | None:
    """The one-line failure for an error an operator can act on; None for a bug."""
    from pydantic import ValidationError

    from domain.errors import Refusal

    if isinstance(error, UsageError):
        return Failure(error.exit_code, f"{error.format_message()} (see --help)")
    if isinstance(error, typer.TyperException):
        return Failure(error.exit_code, error.format_message())
    if isinstance(error, Refusal):
        return Failure(BAD_INPUT, f"refused: {error.detail}")
    if isinstance(error, ValidationError):
        setting = error.title == "Settings"  # an environment variable, named as it is set
        problems = "; ".join(f"{_where(e['loc'], setting)}: {e['msg']}" for e in error.errors())
        return Failure(BAD_INPUT, f"{'bad setting' if setting else 'bad input'}: {problems}")
    found = _temporal(error) or _database(error)
    if found is None and isinstance(error, ConnectionError | TimeoutError):
        found = Failure(UNREACHABLE, f"a dependency is unreachable: {_first_line(error)}")
    if found is None and isinstance(error, ValueError):
        found = Failure(BAD_INPUT, _first_line(error))
    return found


def _where(loc: tuple[int | str, ...], setting: bool) -> str:
    where = ".".join(map(str, loc)) or "value"
    return where.upper() if setting else where


def _first_line(error: BaseException | str) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def report(error: BaseException) -> int:
    """Print the failure in one line on standard error; its exit code (a bug: re-raised)."""
    failure = explain(error)
    if failure is None:
        raise error
    typer.echo(f"error: {failure.message}", err=True)
    return failure.code


_teardown = {"skip": False}


def skip_teardown() -> None:
    """Run as a script: commands marked `exits_without_teardown` leave with `os._exit`."""
    _teardown["skip"] = True


def exits_without_teardown(command: Callable[P, None]) -> Callable[P, None]:
    """Leave with the command's exit code, skipping interpreter teardown: the Temporal
    client's Rust threads can abort a short-lived process there after it succeeded
    (temporalio/sdk-python#300), which would fail a one-shot deployment job. In process
    (CliRunner) the command runs as it is."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        if not _teardown["skip"]:
            return command(*args, **kwargs)
        try:
            command(*args, **kwargs)
            code = 0
        except typer.Exit as done:
            code = done.exit_code
        except Exception as error:
            code = report(error)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    return run


class FriendlyGroup(TyperGroup):
    """The command group whose errors are one line each, with the exit code of their kind."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; on a known error print one line and exit with its code."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except NoArgsIsHelpError as bare:
            bare.show()
            code = bare.exit_code
        except typer.Abort:
            code = 130
        except Exception as error:
            code = report(error)
        sys.exit(code if isinstance(code, int) else 0)


def choices(values: type[Enum], noun: str) -> dict[str, Any]:
    """typer.Option / Argument keywords: only `values`' members, shown in --help and
    completed by the shell, refused with the list (`no report 'x'; the reports are ...`)."""
    known = [str(member.value) for member in values]

    def parse(value: str) -> str:
        if value not in known:
            raise typer.BadParameter(f"no {noun} {value!r}; the {noun}s are {known}")
        return value

    def complete(incomplete: str) -> list[str]:
        return [value for value in known if value.startswith(incomplete)]

    return {"parser": parse, "metavar": f"[{'|'.join(known)}]", "autocompletion": complete}


def check_code(template: str | None) -> None:
    """Refuse a template code the API would refuse (it reaches the database)."""
    from pydantic import TypeAdapter, ValidationError

    from domain.values import Code

    if template is None:
        return
    try:
        TypeAdapter(Code).validate_python(template)
    except ValidationError as error:
        reason = error.errors()[0]["msg"]
        raise typer.BadParameter(f"not a template code: {reason}", param_hint="--template") from (
            None
        )
