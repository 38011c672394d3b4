"""End-to-end helpers: real processes on free ports."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.infra import free_port
from tests.support.tokens import SECRET

ROOT = Path(__file__).resolve().parents[2]
Ports = tuple[int, int, int]


def wait_for(url: str, *, timeout_s: float = 90, status: int = 200) -> httpx.Response:
    """Poll `url` until it answers `status`."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == status:
                return response
            last = response.status_code
        except httpx.HTTPError as error:
            last = error
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer {status} in {timeout_s}s (last: {last})")


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a process of the stack, its output in `log`."""
    return subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal `process` and wait for it."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tree(pid: int) -> list[psutil.Process]:
    """`pid` and every process below it."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def alive(processes: list[psutil.Process]) -> list[str]:
    """Those still running (zombies count as gone)."""
    running = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(" ".join(process.cmdline()[:4]))
        except psutil.NoSuchProcess:
            continue
    return running


def postgres_of(pgdata: Path) -> list[psutil.Process]:
    """The postgres server processes serving `pgdata`."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(pgdata) in " ".join(cmdline):
            found.append(process)
    return found


@pytest.fixture
def python_env() -> dict[str, str]:
    """The environment for child processes (the tests' interpreter and paths)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEMPORAL_ADDRESS"}}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def start_stack(
    data: Path,
    env: dict[str, str],
    log: Path,
    ports: Ports | None = None,
    *,
    auth_secret: str | None = SECRET,
) -> tuple[subprocess.Popen[bytes], str]:
    """`cli.py run` on free ports (or on `ports` again), once it answers /readyz; with
    `auth_secret=None` it signs with the dev secret it keeps under `data`."""
    api_port, temporal_port, ui_port = ports or (free_port(), free_port(), free_port())
    stack_env = {
        **env,
        "DATA_DIR": str(data),
        "API_PORT": str(api_port),
        "TEMPORAL_PORT": str(temporal_port),
        "TEMPORAL_UI_PORT": str(ui_port),
    }
    if auth_secret is not None:
        stack_env["AUTH_SECRET"] = auth_secret
    process = subprocess.Popen(
        [sys.executable, "cli.py", "run"],
        env=stack_env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{api_port}"
    deadline = time.monotonic() + 120
    while "Casework is up" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")[-2000:]
        assert time.monotonic() < deadline, "the stack did not come up in 120 s"
        time.sleep(0.3)
    wait_for(f"{base}/readyz")
    return process, base


def kill_everything_under(data: Path) -> None:
    """After a failure, leave no server of this test running."""
    for process in psutil.process_iter(["cmdline"]):
        if str(data) in " ".join(process.info["cmdline"] or []):
            with contextlib.suppress(psutil.Error):
                process.kill()


def wait_for_line(
    log: Path, runner: subprocess.Popen[bytes], text: str, timeout_s: float = 60
) -> None:
    """Wait until the output of `cli.py run` holds `text` (the runner must stay up)."""
    deadline = time.monotonic() + timeout_s
    while text not in log.read_text(errors="replace"):
        assert runner.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, f"no {text!r} in the output of make run"
        time.sleep(0.2)
