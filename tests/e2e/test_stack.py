"""`make run`'s stack: up and ready, two side by side, data kept, nothing left after Ctrl-C."""

import signal
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.conftest import (
    alive,
    kill_everything_under,
    postgres_of,
    start_stack,
    stop,
    tree,
    wait_for,
    wait_for_line,
)
from tests.support.builders import make_template
from tests.support.infra import free_port
from tests.support.tokens import bearer

pytestmark = pytest.mark.e2e


def test_two_stacks_run_side_by_side_and_ctrl_c_leaves_nothing_running(
    python_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first, first_base = start_stack(data, python_env, tmp_path / "first.log")
    second, second_base = start_stack(data, python_env, tmp_path / "second.log")
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
        killed, _ = start_stack(data, python_env, tmp_path / "killed.log", ports)
        kept = httpx.get(f"{first_base}/v1/templates/qts", headers=admin)
        assert kept.status_code == 200  # data survived the restart
        left_behind = tree(killed.pid)[1:] + postgres_of(data / "pg")
        stop(killed, signal.SIGKILL)  # the runner dies; its servers keep running
        assert alive(left_behind)

        again_log = tmp_path / "again.log"
        again, again_base = start_stack(data, python_env, again_log, ports)  # reuses them
        adopted = psutil.Process(int((data / f"temporal-{ports[1]}.pid").read_text()))
        adopted.kill()  # the adopted dev server is supervised too: started again, same history
        wait_for_line(again_log, again, f"supervisor: temporal died (pid {adopted.pid} gone")
        wait_for_line(again_log, again, "supervisor: temporal restarted")
        wait_for(f"{again_base}/readyz")
        assert httpx.get(f"{again_base}/v1/templates/qts", headers=admin).status_code == 200
        again_processes = tree(again.pid) + postgres_of(data / "pg")
        stop(again, signal.SIGINT)
        assert alive(again_processes + left_behind) == []
    finally:
        for process in (first, second):
            stop(process)
        kill_everything_under(data)
