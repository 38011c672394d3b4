"""`make run`'s stack: up and ready, two side by side, data kept, nothing left after Ctrl-C."""

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ROOT, alive, postgres_of, stop, tree, wait_for
from tests.support.builders import make_template
from tests.support.infra import free_port
from tests.support.tokens import SECRET, bearer

pytestmark = pytest.mark.e2e


def _start(
    data: Path, env: dict[str, str], log: Path, api_port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """A stack on free ports (or on `api_port` again), once it answers /readyz."""
    api_port = api_port or free_port()
    stack_env = {
        **env,
        "DATA_DIR": str(data),
        "API_PORT": str(api_port),
        "TEMPORAL_PORT": str(free_port()),
        "TEMPORAL_UI_PORT": str(free_port()),
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
    wait_for(f"{base}/readyz", timeout_s=120)
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

        api_port = int(first_base.rsplit(":", 1)[1])
        again, _ = _start(data, python_env, tmp_path / "again.log", api_port)
        try:
            kept = httpx.get(f"{first_base}/v1/templates/qts", headers=admin)
            assert kept.status_code == 200  # data survived the restart
        finally:
            again_processes = tree(again.pid) + postgres_of(data / "pg")
            stop(again, signal.SIGINT)
        assert alive(again_processes) == []
    finally:
        for process in (first, second):
            stop(process)
