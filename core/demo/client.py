"""The seed's HTTP client: tokens per demo user, and an Idempotency-Key on every write."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from core.auth import mint_token

JSON = dict[str, Any]
KEY_PREFIX = "seed-demo:"


class SeedError(Exception):
    """The API refused a step of the seed (the message names the step and the answer)."""


@dataclass(frozen=True)
class User:
    """A demo caller: the claims of the tokens the seed signs for it."""

    sub: str
    roles: tuple[str, ...]
    org: str | None = None
    name: str = ""


class DemoApi:
    """Calls the API as demo users; a write carries a key derived from its step's name, so a
    second run gets the first run's answers back instead of making everything twice."""

    def __init__(self, base_url: str, secret: str, *, transport: httpx.BaseTransport | None = None):
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per step is enough
        self.http = httpx.Client(base_url=base_url, timeout=60, transport=transport)
        self.secret = secret
        self.tokens: dict[User, str] = {}

    def close(self) -> None:
        self.http.close()

    def headers(self, who: User) -> dict[str, str]:
        if who not in self.tokens:
            self.tokens[who] = mint_token(
                secret=self.secret,
                sub=who.sub,
                roles=list(who.roles),
                org=who.org,
                name=who.name or who.sub,
                now=datetime.now(UTC),
                ttl=timedelta(hours=2),
            )
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, path: str, who: User) -> JSON:
        """GET expecting 200."""
        return self._check(self.http.get(path, headers=self.headers(who)), f"GET {path}", (200,))

    def write(
        self,
        method: str,
        path: str,
        who: User,
        key: str,
        body: JSON | None = None,
        ok: tuple[int, ...] = (200, 201, 202),
    ) -> JSON:
        """POST/PUT/PATCH with `Idempotency-Key: seed-demo:<key>`; an answer outside `ok` fails."""
        headers = {**self.headers(who), "Idempotency-Key": KEY_PREFIX + key}
        answer = self.http.request(method, path, json=body, headers=headers)
        return self._check(answer, f"{method} {path} ({key})", ok)

    def post(self, path: str, who: User, key: str, body: JSON | None = None) -> JSON:
        return self.write("POST", path, who, key, body)

    def put(self, path: str, who: User, key: str, body: JSON) -> JSON:
        return self.write("PUT", path, who, key, body)

    def wait_for(
        self,
        what: str,
        read: Callable[[], JSON | None],
        timeout_s: float = 30,
        every_s: float = 0.3,
    ) -> JSON:
        """Poll `read` until it returns something (a workflow's step lands asynchronously)."""
        deadline = time.monotonic() + timeout_s
        while (found := read()) is None:
            if time.monotonic() > deadline:
                raise SeedError(f"gave up waiting for {what} after {timeout_s:.0f} s")
            time.sleep(every_s)
        return found

    @staticmethod
    def _check(answer: httpx.Response, step: str, ok: tuple[int, ...]) -> JSON:
        if answer.status_code not in ok:
            raise SeedError(f"{step} answered {answer.status_code}: {answer.text[:500]}")
        body: JSON = answer.json() if answer.content else {}
        return body
