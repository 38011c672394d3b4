"""`make run` supervises: SIGKILL its worker, API, postmaster and dev server in turn; each
comes back by itself, the API answers 503 naming what is down meanwhile, and Ctrl-C still
stops every process."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.conftest import (
    ROOT,
    alive,
    kill_everything_under,
    postgres_of,
    start_stack,
    stop,
    tree,
    wait_for,
    wait_for_line,
)
from tests.support.builders import complete_answers, make_template
from tests.support.tokens import bearer

pytestmark = pytest.mark.e2e

ADMIN, ALICE = bearer("admin", "admin"), bearer("alice", "applicant")


def test_make_run_restarts_what_dies_and_ctrl_c_still_stops_everything(
    python_env: dict[str, str], tmp_path: Path
) -> None:
    data, log = tmp_path / "data", tmp_path / "stack.log"
    runner, base = start_stack(data, python_env, log)
    http = httpx.Client(base_url=base, timeout=60)
    try:
        _publish_template(http)
        assert _submit_an_application(http) == "SUBMITTED"

        for name, marker in (("worker", "worker.py"), ("api", "api.app:app")):
            killed = _process_of(runner, marker)
            killed.kill()
            wait_for_line(log, runner, f"supervisor: {name} died (pid {killed.pid}, killed by")
            wait_for_line(log, runner, f"supervisor: {name} restarted")
            wait_for(f"{base}/readyz")
            assert _process_of(runner, marker).pid != killed.pid
            assert _submit_an_application(http) == "SUBMITTED"

        worker, api = _process_of(runner, "worker.py"), _process_of(runner, "api.app:app")
        with _supervisor_paused(runner):  # so the outage is seen, not raced
            os.kill(_postmaster(data), signal.SIGKILL)
            down = wait_for(f"{base}/readyz", status=503, timeout_s=30)
            refused = http.get("/v1/templates/qts", headers=ADMIN)
        assert down.json()["detail"] == "not ready: postgresql did not answer"
        assert down.headers["retry-after"]
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"]
        wait_for_line(log, runner, "supervisor: postgresql died (postmaster pid")
        wait_for_line(log, runner, "supervisor: postgresql restarted")
        wait_for(f"{base}/readyz")
        assert _submit_an_application(http) == "SUBMITTED"  # same data: the template is there

        with _supervisor_paused(runner):
            _process_of(runner, "start-dev").kill()
            down = wait_for(f"{base}/readyz", status=503, timeout_s=30)
        assert down.json()["detail"] == "not ready: temporal did not answer"
        wait_for_line(log, runner, "supervisor: temporal died (killed by SIGKILL)")
        wait_for_line(log, runner, "supervisor: temporal restarted")
        wait_for(f"{base}/readyz")
        assert _submit_an_application(http) == "SUBMITTED"

        # The worker and the API reconnected by themselves: neither was restarted for it.
        assert _process_of(runner, "worker.py").pid == worker.pid
        assert _process_of(runner, "api.app:app").pid == api.pid
        _wait_for_healthy_worker(data, base)  # the restarted worker beats too
        everything = tree(runner.pid) + postgres_of(data / "pg")
        stop(runner, signal.SIGINT)
        assert runner.returncode == 0
        assert alive(everything) == []
        assert postgres_of(data / "pg") == []
    finally:
        stop(runner)
        kill_everything_under(data)


def _publish_template(http: httpx.Client) -> None:
    single_level = [{"code": "assessment", "name": "Assessment", "levels": 1}]
    published = http.post("/v1/templates", json=make_template(stages=single_level), headers=ADMIN)
    assert published.status_code == 201, published.text


def _submit_an_application(http: httpx.Client) -> str:
    """A draft filled in and submitted (the submit runs in the worker): its status."""
    created = http.post("/v1/applications", json={"template_code": "qts"}, headers=ALICE)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    for element, value in complete_answers().items():
        answered = http.put(
            f"/v1/applications/{application_id}/responses/{element}",
            json={"value": value},
            headers=ALICE,
        )
        assert answered.status_code == 200, answered.text
    keyed = {**ALICE, "Idempotency-Key": f"submit-{application_id}"}  # its own pool too
    submitted = http.post(f"/v1/applications/{application_id}/submit", headers=keyed)
    assert submitted.status_code == 200, submitted.text
    return str(submitted.json()["status"])


def _process_of(runner: subprocess.Popen[bytes], marker: str) -> psutil.Process:
    """The runner's child whose command line holds `marker`, once there is one."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for process in tree(runner.pid)[1:]:
            with contextlib.suppress(psutil.Error):
                if marker in process.cmdline() and process.status() != psutil.STATUS_ZOMBIE:
                    return process
        time.sleep(0.2)
    raise AssertionError(f"no child process running {marker}")


def _postmaster(data: Path) -> int:
    return int((data / "pg" / "postmaster.pid").read_text().split()[0])


@contextlib.contextmanager
def _supervisor_paused(runner: subprocess.Popen[bytes]) -> Iterator[None]:
    """Freeze the supervisor (not its children) while the body runs."""
    runner.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        runner.send_signal(signal.SIGCONT)


def _wait_for_healthy_worker(data: Path, base: str) -> None:
    """`python worker.py --check` (the compose healthcheck) passes for this stack's worker."""
    api_port = base.rsplit(":", 1)[1]
    env = {**os.environ, "WORKER_HEARTBEAT_FILE": str(data / f"worker-{api_port}.alive")}
    deadline = time.monotonic() + 30
    while True:
        check = subprocess.run(
            [sys.executable, "worker.py", "--check"], env=env, cwd=ROOT, capture_output=True
        )
        if check.returncode == 0:
            return
        assert time.monotonic() < deadline, check.stdout
        time.sleep(1)
