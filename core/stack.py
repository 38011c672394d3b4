"""`make run`: embedded PostgreSQL + Temporal dev server + worker + API, stopped together."""

import asyncio
import contextlib
import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from core.auth import mint_token
from core.migrate import upgrade
from core.pg import ensure_database, start_embedded, stop_embedded
from core.settings import Settings
from core.temporal import connect, dev_server_flags, register_search_attributes

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stack:
    """The processes one `make run` owns, so it can stop every one of them."""

    settings: Settings
    data: Path
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    temporal: subprocess.Popen[bytes] | None = None
    temporal_pid: int | None = None
    owns_pg: bool = False

    @property
    def pgdata(self) -> Path:
        return self.data / "pg"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts connections on `port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _terminate(pid: int, timeout_s: float = 15) -> None:
    """SIGTERM a process we did not start (adopted), then SIGKILL if it lingers."""
    try:
        process = psutil.Process(pid)
        process.terminate()
        process.wait(timeout=timeout_s)
    except psutil.TimeoutExpired:
        process.kill()
    except psutil.NoSuchProcess:
        return


def _pg_users(stack: Stack, *, add: int | None = None, remove: int | None = None) -> list[int]:
    """Stacks sharing the embedded server: the last one out stops it."""
    path = stack.data / "pg.users"
    with _locked(stack.data / "pg.lock"):
        pids = [int(p) for p in path.read_text().split()] if path.exists() else []
        pids = [pid for pid in pids if _alive(pid) and pid != remove]
        if add is not None and add not in pids:
            pids.append(add)
        path.write_text(" ".join(map(str, pids)))
        return pids


def start_postgres(stack: Stack) -> str:
    """The database URL: DATABASE_URL, or a database on the embedded server."""
    if stack.settings.database_url:
        return stack.settings.database_url
    admin_url = start_embedded(stack.pgdata)
    stack.owns_pg = True
    _pg_users(stack, add=os.getpid())
    return ensure_database(admin_url, stack.settings.stack_database_name())


def start_temporal(stack: Stack) -> str:
    """The Temporal address: TEMPORAL_ADDRESS, or the dev server (reused when still running)."""
    settings = stack.settings
    if settings.temporal_address:
        return settings.temporal_address
    port, pid_file = settings.temporal_port, stack.data / f"temporal-{settings.temporal_port}.pid"
    if port_open(port):
        previous = int(pid_file.read_text()) if pid_file.exists() else None
        if previous and _alive(previous):
            stack.temporal_pid = previous  # left by a killed run: adopt it, stop it at exit
        print(f"reusing the Temporal server already on port {port}")
        return f"127.0.0.1:{port}"
    log = (stack.data / f"temporal-{port}.log").open("ab")
    stack.temporal = subprocess.Popen(
        [
            str(BIN / "temporal"),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ui-port",
            str(settings.temporal_ui_port),
            "--db-filename",
            str(stack.data / f"temporal-{port}.db"),
            "--log-level",
            "warn",
            "--namespace",
            settings.temporal_namespace,
            *dev_server_flags(),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pid_file.write_text(str(stack.temporal.pid))
    return f"127.0.0.1:{port}"


async def prepare_temporal(settings: Settings, target: str, deadline_s: float) -> None:
    """Wait for Temporal to answer, then register every custom search attribute."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            client = await connect(settings, target=target)
            await register_search_attributes(client)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def _pid_file(stack: Stack) -> Path:
    return stack.data / f"stack-{stack.settings.api_port}.pids"


def _spawn(stack: Stack, args: list[str], env: dict[str, str], name: str) -> None:
    print(f"starting {name}: {' '.join(args)}")
    stack.children.append(subprocess.Popen(args, env=env, cwd=ROOT, start_new_session=True))
    _pid_file(stack).write_text(" ".join(str(child.pid) for child in stack.children))


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


def stop(stack: Stack) -> None:
    """Stop API and worker, then Temporal and PostgreSQL (if no other stack still uses it)."""
    for child in reversed(stack.children):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in stack.children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    if stack.temporal is not None:
        stack.temporal.terminate()
        try:
            stack.temporal.wait(timeout=15)
        except subprocess.TimeoutExpired:
            stack.temporal.kill()
    elif stack.temporal_pid is not None:
        _terminate(stack.temporal_pid)
    if stack.owns_pg and not _pg_users(stack, remove=os.getpid()):
        stop_embedded(stack.pgdata)
    print("stopped every process of the stack")


def _banner(settings: Settings, secret: str, generated: bool) -> None:
    token = mint_token(
        secret=secret,
        sub="admin",
        name="Admin",
        roles=["admin"],
        now=datetime.now(UTC),
        ttl=timedelta(days=7),
    )
    print("\nCasework is up.")
    print(f"  API        http://127.0.0.1:{settings.api_port}  (docs at /docs)")
    if not settings.temporal_address:
        print(f"  Temporal   127.0.0.1:{settings.temporal_port}")
        print(f"  Temporal UI http://127.0.0.1:{settings.temporal_ui_port}")
    if generated:
        print(f"  AUTH_SECRET (random dev secret, set AUTH_SECRET to keep it): {secret}")
    print(f"  admin token (7 days): {token}")
    print("Ctrl-C stops everything; data stays in", settings.data_dir, flush=True)


def run(settings: Settings) -> int:
    """Bring the stack up, wait for Ctrl-C/SIGTERM (or a child dying), stop it all."""
    stack = Stack(settings=settings, data=settings.data_dir.resolve())
    stack.data.mkdir(parents=True, exist_ok=True)
    stopping = {"now": False}

    def on_signal(signum: int, frame: object) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    secret = settings.auth_secret or secrets.token_urlsafe(32)
    parent = os.getppid()
    try:
        reap_leftovers(stack)
        database_url = start_postgres(stack)
        temporal_target = start_temporal(stack)
        asyncio.run(prepare_temporal(settings, temporal_target, deadline_s=90))
        upgrade(database_url)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": temporal_target,
            "AUTH_SECRET": secret,
        }
        _spawn(stack, [sys.executable, "worker.py"], env, "worker")
        _spawn(
            stack,
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:app",
                "--host",
                settings.api_host,
                "--port",
                str(settings.api_port),
            ],
            env,
            "api",
        )
        if not _wait_ready(settings.api_port, 60):
            print("the API did not start; see its output above", file=sys.stderr)
            return 1
        _banner(settings, secret, generated=not settings.auth_secret)
        while not stopping["now"]:
            if any(child.poll() is not None for child in stack.children):
                print("a child process exited; stopping the stack", file=sys.stderr)
                return 1
            if os.getppid() != parent:  # make was killed: do not outlive it
                return 0
            time.sleep(0.5)
        return 0
    finally:
        stop(stack)
