"""The real processes (dev server, worker, uvicorn) on free ports, driven over HTTP."""

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from core.temporal import dev_server_flags
from tests.e2e.conftest import ROOT, spawn, stop, wait_for
from tests.support.builders import complete_answers, make_template
from tests.support.infra import TEMPORAL_CLI, free_port
from tests.support.tokens import SECRET, bearer

pytestmark = pytest.mark.e2e


def test_create_and_submit_over_http_survives_a_killed_worker(
    database_url: str, python_env: dict[str, str], tmp_path: Path
) -> None:
    temporal_port, ui_port, api_port = free_port(), free_port(), free_port()
    server = spawn(
        [
            str(TEMPORAL_CLI),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(temporal_port),
            "--ui-port",
            str(ui_port),
            "--headless",
            "--log-level",
            "error",
            *dev_server_flags(),
        ],
        python_env,
        tmp_path / "temporal.log",
    )
    env = {
        **python_env,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "AUTH_SECRET": SECRET,
    }
    worker = spawn([sys.executable, "worker.py"], env, tmp_path / "worker.log")
    api = spawn(
        [sys.executable, "-m", "uvicorn", "api.app:app", "--port", str(api_port)],
        env,
        tmp_path / "api.log",
    )
    base = f"http://127.0.0.1:{api_port}"
    try:
        wait_for(f"{base}/readyz")
        http = httpx.Client(base_url=base, timeout=60)
        admin, alice = bearer("admin", "admin"), bearer("alice", "applicant")
        assert http.post("/v1/templates", json=make_template(), headers=admin).status_code == 201
        application_id = http.post(
            "/v1/applications", json={"template_code": "qts"}, headers=alice
        ).json()["id"]
        for element, value in complete_answers().items():
            http.put(
                f"/v1/applications/{application_id}/responses/{element}",
                json={"value": value},
                headers=alice,
            )

        stop(worker, signal.SIGKILL)  # nothing runs the workflow until a worker is back
        answers: list[httpx.Response] = []
        submit = threading.Thread(
            target=lambda: answers.append(
                http.post(f"/v1/applications/{application_id}/submit", headers=alice)
            )
        )
        submit.start()
        submit.join(timeout=2)
        assert submit.is_alive(), "the submit must wait for a worker, not fail"
        worker = spawn([sys.executable, "worker.py"], env, tmp_path / "worker2.log")
        submit.join(timeout=60)

        assert answers[0].status_code == 200, answers[0].text
        assert answers[0].json()["status"] == "SUBMITTED"
        assert f"application-{application_id}" in _listed(temporal_port, "CaseKind='application'")
    finally:
        for process in (api, worker, server):
            stop(process)


def _listed(temporal_port: int, query: str) -> str:
    """`temporal workflow list --query`, retried while visibility catches up."""
    stdout = ""
    for _ in range(50):
        stdout = subprocess.run(
            [
                str(TEMPORAL_CLI),
                "workflow",
                "list",
                "--address",
                f"127.0.0.1:{temporal_port}",
                "--query",
                query,
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        if "application-" in stdout:
            break
        time.sleep(0.2)
    return stdout
