"""The real processes (dev server, worker, uvicorn) on free ports, driven over HTTP."""

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from core.db import make_engine
from core.temporal import dev_server_flags
from tests.e2e.conftest import ROOT, spawn, stop, wait_for
from tests.support.builders import complete_answers, make_template
from tests.support.infra import TEMPORAL_CLI, free_port
from tests.support.tokens import SECRET, bearer

pytestmark = pytest.mark.e2e


def test_a_review_cycle_over_http_survives_killed_workers_with_no_duplicates(
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
        single_level = [{"code": "assessment", "name": "Assessment", "levels": 1}]
        template = make_template(stages=single_level)
        assert http.post("/v1/templates", json=template, headers=admin).status_code == 201
        grant = {"template_code": "qts", "stage": "assessment", "level": 1}
        reviewer = {"id": "rev-1", "name": "Rita", "roles": ["reviewer"], "review_grants": [grant]}
        created = http.post("/v1/users", json=reviewer, headers=admin)
        assert created.status_code in (201, 409)  # 409: another e2e test made rev-1 here
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

        stop(worker, signal.SIGKILL)  # between submission and review
        worker = spawn([sys.executable, "worker.py"], env, tmp_path / "worker3.log")
        _review_to_approval(http, application_id)
        _assert_no_duplicates(database_url, application_id)
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


def _review_to_approval(http: httpx.Client, application_id: str) -> None:
    """rev-1 takes the whole case, approves every answer, and conforms."""
    rita = bearer("rev-1", "reviewer")
    rows = http.get(f"/v1/applications/{application_id}/assignments", headers=rita).json()["items"]
    assert [row["reviewer_id"] for row in rows] == ["rev-1"]
    taken = http.post(f"/v1/assignments/{rows[0]['id']}/self-assign", headers=rita)
    assert taken.status_code == 200, taken.text
    started = http.post(f"/v1/assignments/{rows[0]['id']}/reviews", headers=rita)
    assert started.status_code == 201, started.text
    review_id = started.json()["review_id"]
    review = http.get(f"/v1/reviews/{review_id}", headers=rita).json()
    for response in review["responses"]:
        written = http.put(
            f"/v1/reviews/{review_id}/responses/{response['target_id']}",
            json={"decision": "APPROVE"},
            headers=rita,
        )
        assert written.status_code == 200, written.text
    submitted = http.post(
        f"/v1/reviews/{review_id}/submit", json={"decision": "CONFORM"}, headers=rita
    )
    assert submitted.status_code == 200, submitted.text
    shown = http.get(f"/v1/applications/{application_id}", headers=bearer("alice", "applicant"))
    assert (shown.json()["status"], shown.json()["outcome"]) == ("COMPLETED", "APPROVED")


def _assert_no_duplicates(database_url: str, application_id: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        actions = (
            conn.execute(
                text("SELECT action FROM audit_log WHERE subject_id = :id ORDER BY id"),
                {"id": application_id},
            )
            .scalars()
            .all()
        )
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM assessments WHERE application_id = :id),"
                " (SELECT count(*) FROM assignments WHERE application_id = :id),"
                " (SELECT count(*) FROM reviews WHERE application_id = :id),"
                " (SELECT count(*) FROM review_responses r JOIN reviews v ON v.id = r.review_id"
                "  WHERE v.application_id = :id)"
            ),
            {"id": application_id},
        ).one()
    engine.dispose()
    assert actions == [
        "created",
        "submitted",
        "level_reached",
        "self_assigned",
        "review_started",
        "review_submitted",
        "completed",
    ]
    assert tuple(counts) == (1, 1, 1, len(complete_answers()))
