"""A property-based contract run: schemathesis cases from /openapi.json, sent in-process.

Cases are generated up front (hypothesis, derandomized, so a run is reproducible), then sent
with the test's httpx client on the test's own event loop, where the worker runs too. Every
response is checked by schemathesis: no server error, and status code, content type,
headers and body as declared. Failures are collected, not raised one by one, so one run
names every operation that breaks the contract.
"""

import asyncio
import dataclasses
from collections.abc import Iterable
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

BASE_URL = "http://casework.test"
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ANSWER_TIMEOUT_S = 30
# The readiness probe's declared purpose is a 503 when a dependency is slow (3 s each): on a
# loaded machine the shared dev server can be, and that answer keeps the probe's contract.
PROBES = {"GET /readyz"}
Operation = APIOperation[Any, Any, Any, Any]
OperationCase = Case[Operation]
# Headers requests adds for a network hop; httpx sets its own.
_HOP_HEADERS = {"connection", "content-length", "accept-encoding"}


@dataclasses.dataclass(frozen=True)
class Budget:
    """How many cases per operation: generated valid, generated invalid, and schema examples."""

    positive: int = 6
    negative: int = 4
    examples: bool = True


@dataclasses.dataclass(frozen=True)
class Failure:
    """One broken promise: which operation, which check, what was sent and answered."""

    operation: str
    check: str
    status: int | None
    detail: str
    request: str

    def __str__(self) -> str:
        answered = f"answered {self.status}" if self.status is not None else "no answer"
        return f"{self.operation}: {self.check} ({answered})\n  {self.request}\n  {self.detail}"


async def load(client: httpx.AsyncClient) -> BaseSchema:
    """The schema the app serves at /openapi.json (no token)."""
    answer = await client.get("/openapi.json")
    answer.raise_for_status()
    return schemathesis.openapi.from_dict(answer.json())


def operations(schema: BaseSchema) -> list[Operation]:
    """Every operation of the schema (one it cannot parse fails the run)."""
    found: list[Operation] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


def cases(operation: Operation, budget: Budget) -> list[OperationCase]:
    """The cases of one operation, the same on every run."""
    drawn: list[OperationCase] = []
    strategies = [
        (operation.as_strategy(generation_mode=GenerationMode.POSITIVE), budget.positive),
        (operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), budget.negative),
    ]
    if budget.examples and (examples := operation.get_strategies_from_examples()):
        strategies.append((st.one_of(examples), len(examples)))
    for strategy, count in strategies:
        if count:
            drawn.extend(_draw(strategy, count))
    return drawn


def _draw(strategy: st.SearchStrategy[OperationCase], count: int) -> list[OperationCase]:
    drawn: list[OperationCase] = []

    @given(strategy)
    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def collect(case: OperationCase) -> None:
        drawn.append(case)

    collect()
    return drawn[:count]


async def run(
    client: httpx.AsyncClient,
    targets: Iterable[Operation],
    *,
    headers: dict[str, str],
    budget: Budget = Budget(),
) -> list[Failure]:
    """Send every case of every target with `headers` (the caller's token); what broke."""
    failures: list[Failure] = []
    for operation in targets:
        for case in cases(operation, budget):
            failures.extend(await check(client, case, headers=headers))
    return failures


async def check(
    client: httpx.AsyncClient, case: OperationCase, *, headers: dict[str, str]
) -> list[Failure]:
    """Send one case and check its answer against the schema."""
    prepared = _prepare(case, headers)
    body = _as_bytes(prepared.body)
    shown = f"{prepared.method} {prepared.url} body={_shorten(body)}"
    label = case.operation.label
    try:
        answer = await asyncio.wait_for(
            client.request(
                prepared.method or "GET",
                prepared.url or "/",
                headers=_wire_headers(prepared),
                content=body,
            ),
            timeout=ANSWER_TIMEOUT_S,
        )
    except TimeoutError:
        return [Failure(label, "no answer in time", None, f"{ANSWER_TIMEOUT_S} s", shown)]
    except Exception as error:
        # The app raised through the ASGI transport: what a server answers with a bare 500.
        return [Failure(label, "not_a_server_error", None, f"raised {error!r}", shown)]
    try:
        case.validate_response(answer, checks=CHECKS)
    except FailureGroup as group:
        answered = _shorten(answer.content)
        probe_not_ready = label in PROBES and answer.status_code == 503
        return [
            Failure(
                label,
                _check_name(failure),
                answer.status_code,
                f"{failure.title}: {_first_lines(failure.message)} | answer: {answered}",
                shown,
            )
            for failure in group.exceptions
            if not (probe_not_ready and _check_name(failure) == "not_a_server_error")
        ]
    return []


def _prepare(case: OperationCase, headers: dict[str, str]) -> requests.PreparedRequest:
    """The request as schemathesis would put it on the wire, with our token."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
    wanted = ("method", "url", "headers", "params", "json", "data", "files", "cookies")
    return requests.Request(**{key: kwargs[key] for key in wanted if key in kwargs}).prepare()


def _wire_headers(prepared: requests.PreparedRequest) -> list[tuple[bytes, bytes]]:
    """The prepared headers as bytes (latin-1, as on the wire), less the hop-by-hop ones."""
    return [
        (_latin1(name), _latin1(value))
        for name, value in prepared.headers.items()
        if str(name).lower() not in _HOP_HEADERS
    ]


def _latin1(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("latin-1")


def _as_bytes(body: object) -> bytes | None:
    """A prepared body (bytes, or text for a form) as bytes."""
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    raise TypeError(f"a streamed body cannot be replayed: {type(body).__name__}")


def _shorten(body: bytes | None, limit: int = 200) -> str:
    text = repr(body)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _first_lines(message: str, count: int = 3) -> str:
    return " / ".join(line.strip() for line in message.strip().splitlines()[:count] if line.strip())


def _check_name(failure: Exception) -> str:
    names = getattr(failure, "checks", ())
    return str(names[0]) if names else type(failure).__name__


def report(failures: list[Failure]) -> str:
    """Each distinct failure once (operation, check, status), with one request that shows it."""
    seen: dict[tuple[str, str, int | None], Failure] = {}
    for failure in failures:
        seen.setdefault((failure.operation, failure.check, failure.status), failure)
    lines = [str(failure) for failure in seen.values()]
    return f"{len(failures)} failures, {len(seen)} distinct:\n" + "\n".join(lines)
