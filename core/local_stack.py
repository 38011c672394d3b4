"""The coordinates of a running `make run` stack, kept under DATA_DIR, so any command on the
same machine finds its database, Temporal and AUTH_SECRET without being told.

Only a development setup uses them: settings fall back to them when neither DATABASE_URL
nor TEMPORAL_ADDRESS is set (that is how settings tell `make run`'s embedded stack from a
deployment, which always sets both), and only while the `make run` that wrote them is alive.
"""

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

DEV_SECRET_FILE = "auth_secret"


@dataclass(frozen=True)
class LocalStack:
    """Where one running stack answers; `auth_secret` only when it is the stored dev secret."""

    pid: int
    api_port: int
    temporal_port: int
    temporal_ui_port: int
    database_url: str
    temporal_address: str
    auth_secret: str | None = None


def coordinates_file(data: Path, api_port: int) -> Path:
    """One file per stack: stacks side by side differ by their API port."""
    return data / f"stack-{api_port}.json"


def _write_private(path: Path, text: str) -> None:
    """Write `text` readable by its owner only, replacing the file in one step."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    partial.replace(path)


def dev_secret(data: Path) -> str:
    """The development AUTH_SECRET stored under `data`, made (once) when none is stored."""
    path = data / DEV_SECRET_FILE
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        _write_private(partial, secrets.token_urlsafe(32) + "\n")
        try:
            os.link(partial, path)  # atomic, and refused if another run stored one meanwhile
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    stored = path.read_text().strip()
    if not stored:
        raise ValueError(f"{path} is empty: delete it and a fresh dev secret is made")
    return stored


def record(data: Path, stack: LocalStack) -> Path:
    """Write the stack's coordinates (owner-only: they may hold a secret)."""
    path = coordinates_file(data, stack.api_port)
    _write_private(path, json.dumps(asdict(stack), indent=2) + "\n")
    return path


def forget(data: Path, api_port: int) -> None:
    """Remove the coordinates of a stack that stops."""
    coordinates_file(data, api_port).unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read(path: Path) -> LocalStack | None:
    """The stack a file describes while its `make run` is alive, else None."""
    try:
        stack = LocalStack(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return stack if _running(stack.pid) else None


def find(data: Path, api_port: int | None) -> LocalStack | None:
    """The running stack on `api_port`; with no port asked for, the only one running."""
    if api_port is not None:
        return _read(coordinates_file(data, api_port))
    running = [s for p in sorted(data.glob("stack-*.json")) if (s := _read(p)) is not None]
    return running[0] if len(running) == 1 else None
