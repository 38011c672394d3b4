"""`make run`: embedded PostgreSQL + Temporal dev server + worker + API, supervised.

A worker or API that dies is started again, and so are the embedded PostgreSQL and the
dev server this run owns (same data directory, same history file), with a backoff
(core/supervise.py). Ctrl-C or SIGTERM stops every process of the stack.
"""

import asyncio
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from core.auth import mint_token
from core.devserver import DevServer, port_open
from core.local_stack import LocalStack, dev_secret, forget, record
from core.migrate import upgrade
from core.pg import (
    ensure_database,
    locked,
    postmaster_pid,
    restart_embedded,
    start_embedded,
    stop_embedded,
)
from core.provision import prepare_temporal
from core.settings import Settings
from core.supervise import Supervised, alive, exit_reason, supervise_once

ROOT = Path(__file__).resolve().parent.parent
SUPERVISE_EVERY_S = 0.5


@dataclass
class Stack:
    """The processes one `make run` owns, so it can restart and stop every one of them."""

    settings: Settings
    data: Path
    temporal: DevServer
    env: dict[str, str] = field(default_factory=dict)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    owns_pg: bool = False  # the embedded server (not DATABASE_URL): restarted, stopped
    postmaster: int | None = None  # its pid, for the log

    @property
    def pgdata(self) -> Path:
        return self.data / "pg"


def _pg_users(stack: Stack, *, add: int | None = None, remove: int | None = None) -> list[int]:
    """Stacks sharing the embedded server: the last one out stops it."""
    path = stack.data / "pg.users"
    with locked(stack.data / "pg.lock"):
        pids = [int(p) for p in path.read_text().split()] if path.exists() else []
        pids = [pid for pid in pids if alive(pid) and pid != remove]
        if add is not None and add not in pids:
            pids.append(add)
        path.write_text(" ".join(map(str, pids)))
        return pids


def start_postgres(stack: Stack) -> str:
    """The database URL: DATABASE_URL, or a database on the embedded server."""
    if stack.settings.database_url:
        return stack.settings.database_url
    admin_url = start_embedded(stack.pgdata)
    stack.owns_pg, stack.postmaster = True, postmaster_pid(stack.pgdata)
    _pg_users(stack, add=os.getpid())
    return ensure_database(admin_url, stack.settings.stack_database_name())


def start_temporal(stack: Stack) -> str:
    """The Temporal address: TEMPORAL_ADDRESS, or the dev server (reused when still running)."""
    if stack.settings.temporal_address:
        return stack.settings.temporal_address
    stack.temporal.start_or_adopt()
    return stack.temporal.target


def _pid_file(stack: Stack) -> Path:
    return stack.data / f"stack-{stack.settings.api_port}.pids"


def _commands(settings: Settings) -> dict[str, list[str]]:
    """The worker's and the API's command lines."""
    api = ["-m", "uvicorn", "api.app:app", "--host", settings.api_host]
    if settings.api_workers > 1:  # each its own engine and Temporal client (Sizing)
        api += ["--workers", str(settings.api_workers)]
    return {
        "worker": [sys.executable, "worker.py"],
        "api": [sys.executable, *api, "--port", str(settings.api_port)],
    }


def _spawn(stack: Stack, name: str) -> str:
    """Start the worker or the API (again); describe it for the log."""
    args = _commands(stack.settings)[name]
    child = subprocess.Popen(args, env=stack.env, cwd=ROOT, start_new_session=True)
    stack.children[name] = child
    _pid_file(stack).write_text(" ".join(str(c.pid) for c in stack.children.values()))
    return f"pid {child.pid}"


def reap_leftovers(stack: Stack) -> None:
    """Stop the worker and API a killed run of this stack left behind (they hold its ports)."""
    path = _pid_file(stack)
    if not path.exists():
        return
    for pid in (int(p) for p in path.read_text().split()):
        try:
            process = psutil.Process(pid)
            if {"worker.py", "api.app:app"} & set(process.cmdline()):
                print(f"stopping process {pid} left by an earlier run")
                process.terminate()
                process.wait(timeout=15)
        except (psutil.NoSuchProcess, psutil.TimeoutExpired, psutil.AccessDenied):
            continue
    path.unlink()


def _wait_ready(port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if port_open(port):
            return True
        time.sleep(0.3)
    return False


def _restart_postgres(stack: Stack) -> str:
    stack.postmaster = restart_embedded(stack.pgdata)
    return f"postmaster pid {stack.postmaster}, data {stack.pgdata}"


def _postgres_died(stack: Stack) -> str | None:
    if (pid := postmaster_pid(stack.pgdata)) is not None:
        stack.postmaster = pid  # perhaps restarted by another stack sharing it
        return None
    return f"postmaster pid {stack.postmaster} gone; not our child, so no exit status"


def _child_died(stack: Stack, name: str) -> str | None:
    code = stack.children[name].poll()
    return None if code is None else f"pid {stack.children[name].pid}, {exit_reason(code)}"


def supervised(stack: Stack) -> list[Supervised]:
    """What this run restarts, dependencies first: only what it owns."""
    processes: list[Supervised] = []
    if stack.owns_pg:
        processes.append(
            Supervised(
                "postgresql",
                start=lambda: _restart_postgres(stack),
                died=lambda: _postgres_died(stack),
            )
        )
    if stack.temporal.owned:
        processes.append(
            Supervised("temporal", start=stack.temporal.spawn, died=stack.temporal.died)
        )
    processes += [_supervised_child(stack, name) for name in stack.children]
    return processes


def _supervised_child(stack: Stack, name: str) -> Supervised:
    return Supervised(
        name, start=lambda: _spawn(stack, name), died=lambda: _child_died(stack, name)
    )


def stop(stack: Stack) -> None:
    """Stop API and worker, then Temporal and PostgreSQL (if no other stack still uses it)."""
    forget(stack.data, stack.settings.api_port)
    children = list(stack.children.values())
    for child in reversed(children):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    stack.temporal.stop()
    if stack.owns_pg and not _pg_users(stack, remove=os.getpid()):
        stop_embedded(stack.pgdata)
    print("stopped every process of the stack")


def _banner(settings: Settings, env: dict[str, str], stored_secret: bool) -> None:
    """What a newcomer needs: where each part answers, an admin token, and `export` lines
    for another shell (cli.py finds this stack by itself; other tools read these)."""
    secret = env["AUTH_SECRET"]
    token = mint_token(
        secret=secret,
        sub="admin",
        name="Admin",
        roles=["admin"],
        now=datetime.now(UTC),
        ttl=timedelta(days=7),
    )
    data = settings.data_dir
    print("\nCasework is up.")
    print(f"  API         {settings.api_url()}  (docs at /docs)")
    if not settings.temporal_address:
        print(f"  Temporal    {env['TEMPORAL_ADDRESS']}")
        print(f"  Temporal UI http://127.0.0.1:{settings.temporal_ui_port}")
    if stored_secret:
        print(f"  AUTH_SECRET kept in {data / 'auth_secret'}: tokens outlive a restart")
    print(f"  admin token (7 days): {token}")
    print("In another shell, cli.py finds this stack by itself; for other tools:")
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS", "AUTH_SECRET"):
        print(f"  export {name}={shlex.quote(env[name])}")
    print("Ctrl-C stops everything; data stays in", data, flush=True)


def _log(line: str) -> None:
    print(line, flush=True)


def _start(stack: Stack, secret: str) -> bool:
    """Bring every part up; False when the API did not start."""
    reap_leftovers(stack)
    database_url = start_postgres(stack)
    temporal_target = start_temporal(stack)
    asyncio.run(prepare_temporal(stack.settings, temporal_target, deadline_s=90))
    upgrade(database_url)
    stack.env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_target,
        "AUTH_SECRET": secret,
        "WORKER_HEARTBEAT_FILE": str(stack.data / f"worker-{stack.settings.api_port}.alive"),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),  # a terminal; JSON in production
    }
    for name in ("worker", "api"):
        print(f"starting {name}: {' '.join(_commands(stack.settings)[name])}")
        _spawn(stack, name)
    return _wait_ready(stack.settings.api_port, 60)


def _record(stack: Stack, *, stored_secret: bool) -> None:
    """Leave this stack's coordinates under DATA_DIR for the commands of other shells."""
    settings = stack.settings
    record(
        stack.data,
        LocalStack(
            pid=os.getpid(),
            api_port=settings.api_port,
            temporal_port=settings.temporal_port,
            temporal_ui_port=settings.temporal_ui_port,
            database_url=stack.env["DATABASE_URL"],
            temporal_address=stack.env["TEMPORAL_ADDRESS"],
            auth_secret=stack.env["AUTH_SECRET"] if stored_secret else None,
        ),
    )


def run(settings: Settings) -> int:
    """Bring the stack up, restart what dies, stop it all on Ctrl-C/SIGTERM."""
    data = settings.data_dir.resolve()
    stack = Stack(settings=settings, data=data, temporal=DevServer(settings=settings, data=data))
    stack.data.mkdir(parents=True, exist_ok=True)
    stopping = {"now": False}

    def on_signal(signum: int, frame: object) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    secret = settings.auth_secret or dev_secret(data)
    parent = os.getppid()
    try:
        if not _start(stack, secret):
            print("the API did not start; see its output above", file=sys.stderr)
            return 1
        _record(stack, stored_secret=not settings.auth_secret)
        _banner(settings, stack.env, stored_secret=not settings.auth_secret)
        processes = supervised(stack)
        names = ", ".join(process.name for process in processes)
        print(f"Supervised (started again when they die): {names}", flush=True)
        while not stopping["now"]:
            supervise_once(processes, _log)
            if os.getppid() != parent:  # make was killed: do not outlive it
                return 0
            time.sleep(SUPERVISE_EVERY_S)
        return 0
    finally:
        stop(stack)
