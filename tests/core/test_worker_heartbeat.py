"""`python worker.py --check`: healthy only while the worker's heartbeat file is fresh."""

import os
from pathlib import Path

import pytest

from worker import HEARTBEAT_EVERY_S, heartbeat_problem

TOUCHED_AT = 1_800_000_000.0


@pytest.mark.parametrize(
    ("age_s", "problem"),
    [
        (0.0, None),
        (HEARTBEAT_EVERY_S + 1, None),  # one beat late is fine
        (3 * HEARTBEAT_EVERY_S, None),
        (3 * HEARTBEAT_EVERY_S + 1, "the last heartbeat in {path} is 31 s old"),
        (600.0, "the last heartbeat in {path} is 600 s old"),
    ],
)
def test_a_heartbeat_older_than_three_beats_is_unhealthy(
    tmp_path: Path, age_s: float, problem: str | None
) -> None:
    path = tmp_path / "worker.alive"
    path.touch()
    os.utime(path, (TOUCHED_AT, TOUCHED_AT))

    found = heartbeat_problem(path, now=TOUCHED_AT + age_s)

    assert found == (problem.format(path=path) if problem else None)


def test_no_heartbeat_file_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "worker.alive"

    assert heartbeat_problem(path, now=TOUCHED_AT) == f"no heartbeat yet in {path}"
    assert heartbeat_problem(None, now=TOUCHED_AT) == "WORKER_HEARTBEAT_FILE is not set"
