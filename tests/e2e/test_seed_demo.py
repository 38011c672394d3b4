"""`cli.py seed-demo` on a fresh stack: every kind of case is there, made through the API,
and a second run changes nothing."""

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ROOT, kill_everything_under, start_stack, stop
from tests.support.tokens import SECRET, bearer

pytestmark = pytest.mark.e2e
STAFF = bearer("e2e-staff", "admin", "reviewer", "releaser")


def _seed(base: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "cli.py", "seed-demo", "--api", base],
        env={**env, "AUTH_SECRET": SECRET},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )


def _items(base: str, path: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{base}{path}", headers=STAFF, timeout=10)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _world(base: str) -> dict[str, Any]:
    applications = _items(base, "/v1/applications?limit=100")
    details = [
        httpx.get(f"{base}/v1/applications/{a['id']}", headers=STAFF).json() for a in applications
    ]
    return {
        "applications": Counter((d["status"], d["outcome"], d["stage"]) for d in details),
        "open_loq": [d["loq_deadline_at"] for d in details if d["status"] == "CHANGES_REQUIRED"],
        "slas": Counter((s["definition"], s["status"]) for s in _items(base, "/v1/slas?limit=100")),
        "pending": sorted(
            bool(p.get("scheduled_release_at"))
            for p in _items(base, "/v1/outcome-releases/pending?limit=100")
        ),
        "qts": httpx.get(f"{base}/v1/templates/qts", headers=STAFF).json()["version"],
        "discrepancies": [
            d["field"]
            for d in httpx.get(f"{base}/v1/inductions/2000001", headers=STAFF).json()[
                "discrepancies"
            ]
        ],
    }


def test_seed_demo_fills_a_fresh_stack_and_a_second_run_changes_nothing(
    python_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    runner, base = start_stack(data, python_env, tmp_path / "stack.log")
    try:
        first = _seed(base, python_env)
        assert first.returncode == 0, first.stdout + first.stderr
        world = _world(base)

        apps = world["applications"]
        assert apps[("DRAFT", None, None)] == 1
        assert apps[("CHANGES_REQUIRED", None, "assessment")] == 1
        assert apps[("COMPLETED", "APPROVED", "assessment")] == 1
        assert apps[("COMPLETED", "REJECTED", "assessment")] == 1
        assert apps[("WITHDRAWN", None, "assessment")] == 1
        assert apps[("SUBMITTED", None, "final")] == 1
        assert apps[("SUBMITTED", None, "assessment")] == 4
        assert all(world["open_loq"])  # the open LOQ has its deadline
        statuses = {status for _, status in world["slas"]}
        assert {"RUNNING", "PAUSED", "MET", "BREACHED"} <= statuses
        assert True in world["pending"]  # a scheduled release
        assert False in world["pending"]  # and ones nobody scheduled yet
        assert sorted(world["discrepancies"]) == ["appropriate_body_id", "programme_type"]
        assert "BREACHED" in first.stdout

        second = _seed(base, python_env)
        assert second.returncode == 0, second.stdout + second.stderr
        assert _world(base) == world
        assert world["qts"] == 1  # the template was not published twice
    finally:
        stop(runner)
        kill_everything_under(data)
