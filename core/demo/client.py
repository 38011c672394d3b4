"""The seed's HTTP client: tokens per demo user, and an Idempotency-Key on every write.
The standard library's, so the seed runs wherever the service's own code does."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.auth import mint_token

JSON = dict[str, Any]
KEY_PREFIX = "seed-demo:"


class SeedError(Exception):
    """The API refused a step of the seed (the message names the step and the answer)."""


class Unreachable(SeedError):
    """The API did not answer at all."""


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

    def __init__(self, base_url: str, secret: str, *, timeout_s: float = 60):
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.timeout_s = timeout_s
        self.tokens: dict[User, str] = {}

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
        return self._call("GET", path, who, None, None, (200,))

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
        return self._call(method, path, who, key, body, ok)

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

    def _call(
        self,
        method: str,
        path: str,
        who: User,
        key: str | None,
        body: JSON | None,
        ok: tuple[int, ...],
    ) -> JSON:
        step = f"{method} {path}" + (f" ({key})" if key else "")
        headers = self.headers(who)
        if key is not None:
            headers["Idempotency-Key"] = KEY_PREFIX + key
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                status, content = answer.status, answer.read()
        except urllib.error.HTTPError as refused:
            status, content = refused.code, refused.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise Unreachable(
                f"{step}: the API at {self.base_url} did not answer ({reason})"
            ) from None
        if status not in ok:
            raise SeedError(f"{step} answered {status}: {content[:500].decode(errors='replace')}")
        found: JSON = json.loads(content) if content else {}
        return found
