"""The CLI against `cli.py run`'s whole stack (its own worker, embedded PostgreSQL, dev
server), each command in its own process as an operator types it."""

import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.conftest import ROOT, kill_everything_under, start_stack, stop
from tests.support.infra import free_port
from tests.support.tokens import bearer

pytestmark = pytest.mark.e2e
ADMIN, ASSESSOR = bearer("admin", "admin"), bearer("assessor-1", "assessor")


def _post(base: str, path: str, body: dict[str, object], token: dict[str, str]) -> str:
    response = httpx.post(f"{base}{path}", json=body, headers=token, timeout=30)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _pending_result(base: str) -> tuple[str, str]:
    """A result of a provider that holds releases: (provider id, result id)."""
    provider = _post(base, "/v1/providers", {"name": "Acme", "auto_release_outcomes": False}, ADMIN)
    candidate = _post(
        base,
        "/v1/candidates",
        {"name": "Ada", "provider_id": provider, "status": "IN_ASSESSMENT"},
        ADMIN,
    )
    element = _post(
        base,
        "/v1/elements",
        {"candidate_id": candidate, "component": "practical", "scheduled_at": "2026-01-05T09:00Z"},
        ADMIN,
    )
    body = {"element_id": element, "grade": "PASS", "sampled_for_qa": False}
    return provider, _post(base, "/v1/results", body, ASSESSOR)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "cli.py", *args]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def _eventually(env: dict[str, str], *args: str, holds: str) -> str:
    """The command's output once it holds `holds` (visibility and workflows lag a moment)."""
    out = ""
    for _ in range(60):
        run = _cli(env, *args)
        assert run.returncode == 0, run.stderr
        if holds in (out := run.stdout):
            return out
        time.sleep(0.5)
    raise AssertionError(f"{args} never printed {holds!r}: {out}")


def test_release_find_and_show_on_a_running_stack(
    python_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    ports = (free_port(), free_port(), free_port())
    runner, base = start_stack(data, python_env, tmp_path / "stack.log", ports)
    socket = quote(str(data / "pg"), safe="")
    env = {
        **python_env,
        "DATABASE_URL": f"postgresql+psycopg://postgres:@/casework_{ports[0]}?host={socket}",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{ports[1]}",
    }
    try:
        provider, result_id = _pending_result(base)
        found = _eventually(
            env, "cases", "find", "--kind", "result", "--provider", provider, holds=result_id
        )
        released = _cli(env, "release", "--filter", f"provider_id={provider}", "--now", "--json")
        shown = _eventually(env, "case", "show", f"result-{result_id}", holds="COMPLETED")
    finally:
        stop(runner)
        kill_everything_under(data)

    assert found.split()[0] == f"result-{result_id}"
    assert released.returncode == 0, released.stderr
    assert json.loads(released.stdout)["released"] == 1
    assert f"database: result {result_id} RELEASED (closed" in shown
    assert "workflow: OutcomeReleaseWorkflow COMPLETED" in shown
    assert "agreement: PostgreSQL and Temporal agree" in shown
