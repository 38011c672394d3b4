"""`make run`'s stack: up and ready, two side by side, data kept, nothing left after Ctrl-C."""

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.conftest import ROOT, alive, postgres_of, stop, tree, wait_for
from tests.support.builders import make_template
from tests.support.infra import free_port
from tests.support.tokens import SECRET, bearer

pytestmark = pytest.mark.e2e


Ports = tuple[int, int, int]


def _start(
    data: Path, env: dict[str, str], log: Path, ports: Ports | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """A stack on free ports (or on `ports` again), once it answers /readyz."""
    api_port, temporal_port, ui_port = ports or (free_port(), free_port(), free_port())
    stack_env = {
        **env,
        "DATA_DIR": str(data),
        "API_PORT": str(api_port),
        "TEMPORAL_PORT": str(temporal_port),
        "TEMPORAL_UI_PORT": str(ui_port),
        "AUTH_SECRET": SECRET,
    }
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


def test_two_stacks_run_side_by_side_and_ctrl_c_leaves_nothing_running(
    python_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first, first_base = _start(data, python_env, tmp_path / "first.log")
    second, second_base = _start(data, python_env, tmp_path / "second.log")
    admin = bearer("admin", "admin")
    try:
        published = httpx.post(f"{first_base}/v1/templates", json=make_template(), headers=admin)
        assert published.status_code == 201
        first_processes = tree(first.pid)
        assert len(first_processes) >= 4  # runner, temporal, worker, api

        stop(first, signal.SIGINT)

        assert alive(first_processes) == []
        assert httpx.get(f"{second_base}/readyz").status_code == 200  # its database still up
        second_processes = tree(second.pid) + postgres_of(data / "pg")
        stop(second, signal.SIGTERM)
        assert alive(second_processes) == []
        assert postgres_of(data / "pg") == []

        ports = (int(first_base.rsplit(":", 1)[1]), free_port(), free_port())
        killed, _ = _start(data, python_env, tmp_path / "killed.log", ports)
        kept = httpx.get(f"{first_base}/v1/templates/qts", headers=admin)
        assert kept.status_code == 200  # data survived the restart
        left_behind = tree(killed.pid)[1:] + postgres_of(data / "pg")
        stop(killed, signal.SIGKILL)  # the runner dies; its servers keep running
        assert alive(left_behind)

        again, _ = _start(data, python_env, tmp_path / "again.log", ports)  # reuses them
        again_processes = tree(again.pid) + postgres_of(data / "pg")
        stop(again, signal.SIGINT)
        assert alive(again_processes + left_behind) == []
    finally:
        for process in (first, second):
            stop(process)
        _kill_everything_under(data)


def _kill_everything_under(data: Path) -> None:
    """After a failure, leave no server of this test running."""
    for process in psutil.process_iter(["cmdline"]):
        if str(data) in " ".join(process.info["cmdline"] or []):
            with contextlib.suppress(psutil.Error):
                process.kill()
