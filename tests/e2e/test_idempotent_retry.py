"""A retry with its Idempotency-Key after the API and the worker were SIGKILLed mid-update."""

import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from core.db import make_engine
from core.temporal import dev_server_flags
from tests.e2e.conftest import spawn, stop, wait_for
from tests.support.builders import complete_answers, make_template
from tests.support.infra import TEMPORAL_CLI, free_port
from tests.support.tokens import SECRET, bearer

pytestmark = pytest.mark.e2e

ADMIN, ALICE, RITA = (
    bearer("admin", "admin"),
    bearer("alice", "applicant"),
    bearer("rev-1", "reviewer"),
)


class Stack:
    """Dev server, worker and API as real processes; worker and API can be killed and reborn."""

    def __init__(self, database_url: str, python_env: dict[str, str], logs: Path) -> None:
        self.logs = logs
        self.temporal_port, self.api_port = free_port(), free_port()
        self.server = spawn(
            [
                str(TEMPORAL_CLI),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.temporal_port),
                "--ui-port",
                str(free_port()),
                "--headless",
                "--log-level",
                "error",
                *dev_server_flags(),
            ],
            python_env,
            logs / "temporal.log",
        )
        self.env = {
            **python_env,
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "AUTH_SECRET": SECRET,
        }
        self.births = 0
        self.worker = self._worker()
        self.api = self._api()
        self.base = f"http://127.0.0.1:{self.api_port}"
        wait_for(f"{self.base}/readyz")

    def _worker(self) -> subprocess.Popen[bytes]:
        self.births += 1
        return spawn(
            [sys.executable, "worker.py"], self.env, self.logs / f"worker{self.births}.log"
        )

    def _api(self) -> subprocess.Popen[bytes]:
        self.births += 1
        return spawn(
            [sys.executable, "-m", "uvicorn", "api.app:app", "--port", str(self.api_port)],
            self.env,
            self.logs / f"api{self.births}.log",
        )

    def kill_worker(self) -> None:
        stop(self.worker, signal.SIGKILL)

    def kill_api_during(self, method: str, path: str, headers: dict[str, str]) -> None:
        """Send the request, SIGKILL the API while it waits for the workflow, see it fail."""
        failures: list[BaseException] = []

        def send() -> None:
            try:
                httpx.request(method, self.base + path, headers=headers, timeout=60)
            except httpx.HTTPError as error:
                failures.append(error)

        sender = threading.Thread(target=send)
        sender.start()
        sender.join(timeout=2)
        assert sender.is_alive(), "with no worker the update must still be waiting"
        stop(self.api, signal.SIGKILL)
        sender.join(timeout=10)
        assert failures, "the client must have lost its answer"

    def revive(self) -> None:
        self.worker, self.api = self._worker(), self._api()
        wait_for(f"{self.base}/readyz")

    def close(self) -> None:
        for process in (self.api, self.worker, self.server):
            stop(process)


def test_a_retry_after_the_api_and_worker_died_mid_update_gets_the_first_outcome_once(
    database_url: str, python_env: dict[str, str], tmp_path: Path
) -> None:
    stack = Stack(database_url, python_env, tmp_path)
    try:
        http = httpx.Client(base_url=stack.base, timeout=60)
        application_id = _complete_draft(http)
        submit = f"/v1/applications/{application_id}/submit"
        keyed = {**ALICE, "Idempotency-Key": "submit-through-a-crash"}

        stack.kill_worker()
        stack.kill_api_during("POST", submit, keyed)
        stack.revive()
        http = httpx.Client(base_url=stack.base, timeout=60)
        retried = http.post(submit, headers=keyed)
        replayed = http.post(submit, headers=keyed)

        assert retried.status_code == 200, retried.text
        assert retried.json()["status"] == "SUBMITTED"
        assert replayed.content == retried.content
        assert replayed.headers["idempotent-replayed"] == "true"

        rows = http.get(f"/v1/applications/{application_id}/assignments", headers=RITA).json()
        (row,) = [row for row in rows["items"] if row["reviewer_id"] == "rev-1"]
        claim = f"/v1/assignments/{row['id']}/self-assign"
        keyed_claim = {**RITA, "Idempotency-Key": "claim-through-a-crash"}
        stack.kill_worker()
        stack.kill_api_during("POST", claim, keyed_claim)
        stack.revive()
        http = httpx.Client(base_url=stack.base, timeout=60)
        claimed = http.post(claim, headers=keyed_claim)

        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["status"] == "ASSIGNED"
        assert _actions(database_url, application_id) == [
            "created",
            "submitted",
            "level_reached",
            "self_assigned",
        ]
    finally:
        stack.close()


def _complete_draft(http: httpx.Client) -> str:
    # The same reviewer and grant as the other e2e tests, which share this database.
    single_level = [{"code": "assessment", "name": "Assessment", "levels": 1}]
    template = make_template(stages=single_level)
    assert http.post("/v1/templates", json=template, headers=ADMIN).status_code == 201
    grant = {"template_code": "qts", "stage": "assessment", "level": 1}
    reviewer = {"id": "rev-1", "name": "Rita", "roles": ["reviewer"], "review_grants": [grant]}
    assert http.post("/v1/users", json=reviewer, headers=ADMIN).status_code in (201, 409)
    created = http.post("/v1/applications", json={"template_code": "qts"}, headers=ALICE)
    application_id = str(created.json()["id"])
    for element, value in complete_answers().items():
        http.put(
            f"/v1/applications/{application_id}/responses/{element}",
            json={"value": value},
            headers=ALICE,
        )
    return application_id


def _actions(database_url: str, application_id: str) -> list[str]:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        actions = connection.execute(
            text("SELECT action FROM audit_log WHERE subject_id = :id ORDER BY id"),
            {"id": application_id},
        ).scalars()
        listed = list(actions)
    engine.dispose()
    return listed
