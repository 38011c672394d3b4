"""The supervisor's restart policy: backoff per attempt, and a dead process started again."""

import subprocess
import sys
from pathlib import Path

import pytest

from core.supervise import Backoff, Supervised, exit_reason


@pytest.mark.parametrize(
    ("attempt", "delay_s"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 10.0), (7, 10.0), (60, 10.0)],
)
def test_the_delay_doubles_from_half_a_second_up_to_ten(attempt: int, delay_s: float) -> None:
    assert Backoff().delay_s(attempt) == delay_s


@pytest.mark.parametrize(
    ("attempt", "up_for_s", "next_attempt"),
    [
        (0, 0.0, 1),  # the first death
        (0, 3600.0, 1),
        (1, 2.0, 2),  # died again soon after its restart: wait longer
        (5, 29.9, 6),
        (5, 30.0, 1),  # stayed up a while: a fresh start
        (9, 600.0, 1),
    ],
)
def test_a_run_that_stayed_up_resets_the_attempts(
    attempt: int, up_for_s: float, next_attempt: int
) -> None:
    assert Backoff().next_attempt(attempt, up_for_s) == next_attempt


@pytest.mark.parametrize(
    ("returncode", "reason"),
    [
        (0, "exit code 0"),
        (3, "exit code 3"),
        (-9, "killed by SIGKILL"),
        (-15, "killed by SIGTERM"),
        (-6, "killed by SIGABRT"),
        (-200, "killed by signal 200"),
    ],
)
def test_exit_reasons_name_the_code_or_the_signal(returncode: int, reason: str) -> None:
    assert exit_reason(returncode) == reason


class Sleeper:
    """A real child process the supervisor restarts; `command` can be made to fail."""

    def __init__(self) -> None:
        self.command = [sys.executable, "-c", "import time; time.sleep(120)"]
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self) -> str:
        self.children.append(subprocess.Popen(self.command))
        return f"pid {self.children[-1].pid}"

    def died(self) -> str | None:
        code = self.children[-1].poll()
        return None if code is None else exit_reason(code)

    def stop(self) -> None:
        for child in self.children:
            child.kill()
            child.wait()


def test_a_dead_process_is_restarted_once_its_backoff_is_over_and_each_step_is_logged(
    tmp_path: Path,
) -> None:
    sleeper, lines = Sleeper(), list[str]()
    sleeper.start()
    record = Supervised("sleeper", start=sleeper.start, died=sleeper.died, started_at=0.0)
    try:
        record.check(100.0, lines.append)
        assert lines == []  # alive: nothing to do

        sleeper.children[0].kill()
        sleeper.children[0].wait()
        record.check(100.0, lines.append)
        record.check(100.4, lines.append)  # within its 0.5 s backoff
        assert lines == ["supervisor: sleeper died (killed by SIGKILL); restart attempt 1 in 0.5 s"]
        assert len(sleeper.children) == 1

        sleeper.command = [str(tmp_path / "missing-binary")]  # the restart itself fails
        record.check(100.5, lines.append)
        assert lines[-1].startswith("supervisor: sleeper did not start (FileNotFoundError")
        assert lines[-1].endswith("restart attempt 2 in 1.0 s")

        sleeper.command = [sys.executable, "-c", "import time; time.sleep(120)"]
        record.check(101.5, lines.append)
        assert sleeper.died() is None
        pid = sleeper.children[-1].pid
        assert lines[-1] == f"supervisor: sleeper restarted (pid {pid}, attempt 2)"

        sleeper.children[-1].terminate()
        sleeper.children[-1].wait()
        record.check(102.0, lines.append)  # died again at once: a longer wait
        assert lines[-1] == (
            "supervisor: sleeper died (killed by SIGTERM); restart attempt 3 in 2.0 s"
        )
    finally:
        sleeper.stop()
