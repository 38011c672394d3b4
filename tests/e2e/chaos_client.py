"""The chaos test's HTTP client: every mutating request carries a key it retries with.

On a connection error, a 503 or a 409 "still running" it waits a moment and sends the
same request with the same key; a 409 "its answer was lost" means the change happened,
so it raises `Lost` and the caller reads the state instead.
"""

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

JSON = dict[str, Any]
RETRY_FOR_S = 120.0  # a request still failing after this long fails the test
LOST = "its answer was lost"
RUNNING = "still running"


class Lost(Exception):
    """The change was made but its answer was lost (409): read the state to go on."""


@dataclass(frozen=True)
class Attempt:
    """One HTTP answer: when its attempt started and ended, and what it was."""

    started: float
    finished: float
    status: int
    command: bool  # a workflow command (it needs the worker and Temporal)
    replayed: bool


@dataclass
class Counters:
    """What the clients saw, for the figures and for the kill plan."""

    attempts: list[Attempt] = field(default_factory=list)
    retries: Counter[str] = field(default_factory=Counter)
    lost_answers: int = 0
    server_errors: list[str] = field(default_factory=list)
    commands_done: int = 0
    in_flight: int = 0  # HTTP attempts sent and not answered yet
    rescheduled: int = 0  # schedules planned again: retried past their instant, never made
    marks: dict[str, float] = field(default_factory=dict)  # when each part of the work ended

    def first_success_after(self, instant: float) -> float | None:
        """When the first fresh workflow command sent after `instant` succeeded."""
        ends = [
            a.finished
            for a in self.attempts
            if a.started >= instant and a.command and a.status < 300 and not a.replayed
        ]
        return min(ends, default=None)


class KeyedClient:
    """An HTTP client whose every mutating request carries a key it retries with."""

    def __init__(self, base: str, counters: Counters) -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self.http = httpx.AsyncClient(base_url=base, timeout=30, limits=limits)
        self.counters = counters

    async def close(self) -> None:
        await self.http.aclose()

    async def send(
        self,
        method: str,
        path: str,
        who: dict[str, str],
        body: JSON | None = None,
        *,
        command: bool = False,
    ) -> httpx.Response:
        """The first answer that is not a retry signal; `Lost` for a lost answer."""
        headers = dict(who)
        if method != "GET":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        deadline = time.monotonic() + RETRY_FOR_S
        pause = 0.2
        while True:
            started = time.monotonic()
            reason = await self._attempt(method, path, headers, body, command, started)
            if isinstance(reason, httpx.Response):
                return reason
            self.counters.retries[reason] += 1
            assert time.monotonic() < deadline, f"{method} {path}: still {reason} after retries"
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 1.0)

    async def _attempt(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: JSON | None,
        command: bool,
        started: float,
    ) -> httpx.Response | str:
        """The answer to keep, or why to send it again."""
        self.counters.in_flight += 1
        try:
            response = await self.http.request(method, path, json=body, headers=headers)
        except httpx.TransportError as error:
            return type(error).__name__
        finally:
            self.counters.in_flight -= 1
        replayed = response.headers.get("idempotent-replayed") == "true"
        self.counters.attempts.append(
            Attempt(started, time.monotonic(), response.status_code, command, replayed)
        )
        detail = _detail(response)
        if response.status_code == 503:
            return "503"
        if response.status_code >= 500:
            self.counters.server_errors.append(f"{method} {path}: {response.status_code} {detail}")
            return str(response.status_code)
        if response.status_code == 409 and RUNNING in detail:
            return "409 still running"
        if response.status_code == 409 and LOST in detail:
            self.counters.lost_answers += 1
            raise Lost(f"{method} {path}")
        if command and response.status_code < 300:
            self.counters.commands_done += 1
        return response

    async def ok(
        self,
        method: str,
        path: str,
        who: dict[str, str],
        body: JSON | None = None,
        *,
        command: bool = False,
        expect: tuple[int, ...] = (200, 201, 202),
    ) -> JSON:
        """`send`, asserting a success; its JSON body."""
        response = await self.send(method, path, who, body, command=command)
        assert response.status_code in expect, f"{method} {path}: {response.text}"
        found: JSON = response.json()
        return found

    async def write(self, path: str, who: dict[str, str], body: JSON) -> None:
        """A PUT of a draft value: a lost answer means it was written."""
        try:
            await self.ok("PUT", path, who, body)
        except Lost:
            return

    async def until(
        self, path: str, who: dict[str, str], done: Callable[[JSON], bool], *, wait_s: float = 150
    ) -> JSON:
        """Poll `path` until its body satisfies `done`."""
        deadline = time.monotonic() + wait_s
        while True:
            body = await self.ok("GET", path, who)
            if done(body):
                return body
            assert time.monotonic() < deadline, f"GET {path} never got there: {body}"
            await asyncio.sleep(0.3)


def _detail(response: httpx.Response) -> str:
    if not response.headers.get("content-type", "").endswith("json"):
        return response.text[:200]
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail", "")) if isinstance(body, dict) else ""
