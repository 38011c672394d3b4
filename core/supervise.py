"""Restart what dies: a record per supervised process and one pass of the supervision loop.

A process that dies is started again after a backoff that doubles from `first_s` up to
`cap_s`; once a run has stayed up `steady_s`, its next death counts as a first one again.
"""

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil


@dataclass(frozen=True)
class Backoff:
    """How long to wait before restart number `attempt` (1, 2, ...)."""

    first_s: float = 0.5
    cap_s: float = 10.0
    steady_s: float = 30.0

    def delay_s(self, attempt: int) -> float:
        """`first_s` doubled for each attempt after the first, never above `cap_s`."""
        return float(min(self.cap_s, self.first_s * 2 ** max(attempt - 1, 0)))

    def next_attempt(self, attempt: int, up_for_s: float) -> int:
        """The attempt number of the restart after a run that lasted `up_for_s`."""
        return 1 if up_for_s >= self.steady_s else attempt + 1


def exit_reason(returncode: int) -> str:
    """'exit code 3' or 'killed by SIGKILL' for a child's `returncode`."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    try:
        status: str = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    return bool(status != psutil.STATUS_ZOMBIE)


def terminate(pid: int, timeout_s: float = 15) -> None:
    """SIGTERM a process we did not start (adopted), then SIGKILL if it lingers."""
    try:
        process = psutil.Process(pid)
        process.terminate()
        process.wait(timeout=timeout_s)
    except psutil.TimeoutExpired:
        process.kill()
    except psutil.NoSuchProcess:
        return


@dataclass
class Supervised:
    """One process the stack restarts: how to start it, how to tell it died, its backoff."""

    name: str
    start: Callable[[], str]  # (re)starts it; says what started, for the log (its pid)
    died: Callable[[], str | None]  # None while it runs, else how it ended
    backoff: Backoff = field(default_factory=Backoff)
    attempt: int = 0
    started_at: float = field(default_factory=time.monotonic)
    restart_at: float | None = None

    def _schedule(self, now: float, attempt: int) -> float:
        self.attempt = attempt
        delay = self.backoff.delay_s(attempt)
        self.restart_at = now + delay
        return delay

    def _restart(self, now: float, log: Callable[[str], None]) -> None:
        try:
            started = self.start()
        except Exception as error:
            delay = self._schedule(now, self.attempt + 1)
            log(
                f"supervisor: {self.name} did not start ({type(error).__name__}: {error}); "
                f"restart attempt {self.attempt} in {delay:.1f} s"
            )
            return
        self.started_at, self.restart_at = now, None
        log(f"supervisor: {self.name} restarted ({started}, attempt {self.attempt})")

    def check(self, now: float, log: Callable[[str], None]) -> None:
        """Notice a death and schedule the restart, or restart when its backoff is over."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self._restart(now, log)
            return
        how = self.died()
        if how is None:
            return
        attempt = self.backoff.next_attempt(self.attempt, now - self.started_at)
        delay = self._schedule(now, attempt)
        log(f"supervisor: {self.name} died ({how}); restart attempt {attempt} in {delay:.1f} s")


def supervise_once(processes: list[Supervised], log: Callable[[str], None]) -> None:
    """One pass over every supervised process, in order (dependencies first)."""
    for process in processes:
        process.check(time.monotonic(), log)
