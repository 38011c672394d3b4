"""What commands print: JSON for scripts (`--json`), rich for people, the version."""

import dataclasses
import json
import platform
import tomllib
from datetime import date, datetime
from enum import Enum
from importlib import metadata
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
JsonOption = typer.Option("--json", help="print JSON (one document) instead of text")


def console() -> Console:
    """Rich output for people, on standard error so standard output stays parseable."""
    return Console(stderr=True, highlight=False)


def plain(value: Any) -> Any:
    """`value` as JSON-ready data (models, dataclasses, enums, instants)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def emit_json(value: Any) -> None:
    """One JSON document on standard output."""
    typer.echo(json.dumps(plain(value), indent=2, sort_keys=False))


def version() -> str:
    """This source's version (pyproject.toml beside it, else the installed package's)."""
    try:
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        ours = str(project["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        ours = metadata.version("casework")
    sdk = metadata.version("temporalio")
    return f"casework {ours} (temporalio {sdk}, Python {platform.python_version()})"


def show_version(wanted: bool) -> None:
    """The eager `--version` flag."""
    if wanted:
        typer.echo(version())
        raise typer.Exit(0)
